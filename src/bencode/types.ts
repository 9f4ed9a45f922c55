/**
 * The bencode data model.
 *
 * - Byte strings are `Uint8Array` (views into the input when decoded: no copy).
 * - Integers are `number` when they fit in a safe integer, `bigint` beyond ±2^53.
 * - Dictionaries are `Map<string, BValue>` whose keys are *binary strings*: one char per byte
 *   (char code 0–255, i.e. latin1). This keeps keys byte-exact (v2 `piece layers` keys are raw
 *   SHA-256 digests) while letting ASCII keys read naturally: `dict.get('info')`.
 *   Ordinary JS string comparison of binary strings equals byte-wise comparison.
 */
export type BValue = Uint8Array | number | bigint | BValue[] | BDict;
export type BDict = Map<string, BValue>;

/** Values accepted by the encoder: the data model plus conveniences for building documents. */
export type BEncodable =
  | Uint8Array
  | string
  | number
  | bigint
  | boolean
  | RawBencode
  | readonly BEncodable[]
  | ReadonlyMap<string, BEncodable>
  | { readonly [key: string]: BEncodable | undefined };

/** Already-encoded bytes embedded verbatim (e.g. an `info` dict kept byte-exact). */
export class RawBencode {
  constructor(readonly bytes: Uint8Array) {}
}

/** Byte offsets `[start, end)` of a value inside the decoded input. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export function binaryKey(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

export function keyBytes(key: string): Uint8Array {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i) & 0xff;
  return out;
}
