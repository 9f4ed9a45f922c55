import { compareBytes, utf8 } from '../util/bytes.js';
import { BencodeError } from './errors.js';
import { type BEncodable, keyBytes, RawBencode } from './types.js';

/**
 * Encode to canonical bencode: dictionary keys sorted by their bytes, integers in shortest
 * form. Accepts the decoder's data model (so decode→encode of canonical input gives the same
 * bytes) plus conveniences for building documents:
 * - JS strings encode as UTF-8 byte strings;
 * - plain objects are dictionaries whose keys are UTF-8; `undefined` values are omitted;
 * - `Map` keys are binary strings (one char per byte), as produced by the decoder;
 * - booleans encode as `i1e` / `i0e`; `RawBencode` is copied verbatim.
 */
export function encode(value: BEncodable): Uint8Array {
  const writer = new Writer();
  writeValue(writer, value, 0);
  return writer.finish();
}

/** Deeper than this is certainly a cycle or a bug; keeps the recursive encoder safe. */
const MAX_ENCODE_DEPTH = 256;

class Writer {
  private buf = new Uint8Array(256);
  private length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  ascii(text: string): void {
    this.reserve(text.length);
    for (let i = 0; i < text.length; i++) this.buf[this.length++] = text.charCodeAt(i);
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function writeString(w: Writer, data: Uint8Array): void {
  w.ascii(String(data.length));
  w.byte(0x3a);
  w.bytes(data);
}

function writeValue(w: Writer, value: BEncodable, depth: number): void {
  if (depth > MAX_ENCODE_DEPTH) {
    throw new BencodeError('BENCODE_UNENCODABLE', `nesting deeper than ${MAX_ENCODE_DEPTH} (a cycle?)`, -1);
  }
  if (value instanceof Uint8Array) {
    writeString(w, value);
    return;
  }
  if (value instanceof RawBencode) {
    w.bytes(value.bytes);
    return;
  }
  switch (typeof value) {
    case 'string':
      writeString(w, utf8(value));
      return;
    case 'number':
      if (!Number.isSafeInteger(value)) {
        throw new BencodeError(
          'BENCODE_UNENCODABLE',
          `cannot encode non-integer or unsafe number ${value}`,
          -1,
        );
      }
      w.ascii(`i${Object.is(value, -0) ? 0 : value}e`);
      return;
    case 'bigint':
      w.ascii(`i${value}e`);
      return;
    case 'boolean':
      w.ascii(value ? 'i1e' : 'i0e');
      return;
    case 'object':
      break;
    default:
      throw new BencodeError('BENCODE_UNENCODABLE', `cannot encode a value of type ${typeof value}`, -1);
  }
  if (value === null) throw new BencodeError('BENCODE_UNENCODABLE', 'cannot encode null', -1);
  if (Array.isArray(value)) {
    w.byte(0x6c);
    for (const item of value as readonly BEncodable[]) writeValue(w, item, depth + 1);
    w.byte(0x65);
    return;
  }
  const entries: Array<[Uint8Array, BEncodable]> = [];
  if (value instanceof Map) {
    for (const [k, v] of value as ReadonlyMap<string, BEncodable>) entries.push([keyBytes(k), v]);
  } else {
    for (const [k, v] of Object.entries(value as { [key: string]: BEncodable | undefined })) {
      if (v !== undefined) entries.push([utf8(k), v]);
    }
  }
  entries.sort((a, b) => compareBytes(a[0], b[0]));
  w.byte(0x64);
  for (let i = 0; i < entries.length; i++) {
    const [k, v] = entries[i]!;
    if (i > 0 && compareBytes(entries[i - 1]![0], k) === 0) {
      throw new BencodeError('BENCODE_UNENCODABLE', 'duplicate dictionary key', -1);
    }
    writeString(w, k);
    writeValue(w, v, depth + 1);
  }
  w.byte(0x65);
}
