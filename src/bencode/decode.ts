import { BencodeError } from './errors.js';
import { type BDict, type BValue, binaryKey, type Span } from './types.js';

/**
 * Limits checked before anything is allocated. Bencode arrives from strangers (torrent files,
 * trackers, DHT nodes, peers), so every dimension is bounded:
 * - `maxBytes`: the whole input; anything longer is refused before parsing starts.
 * - `maxDepth`: nesting of lists/dicts. The decoder is iterative, so depth costs heap, not stack.
 * - `maxItems`: total values. Every value needs at least 2 input bytes, so this is also bounded by input size.
 * - `maxIntegerDigits`: integers are arbitrary precision in bencode; parsing huge ones is quadratic.
 */
export interface DecodeOptions {
  maxBytes?: number;
  maxDepth?: number;
  maxItems?: number;
  maxIntegerDigits?: number;
  /**
   * Old torrents exist whose dictionaries are not sorted. By default they are accepted (the
   * info-hash is always taken over the exact input bytes, never a re-encoding); set `false`
   * to reject them with `BENCODE_UNSORTED_KEYS`. Duplicate keys are always rejected.
   */
  allowUnsortedKeys?: boolean;
}

export const DEFAULT_DECODE_LIMITS = {
  maxBytes: 64 * 1024 * 1024,
  maxDepth: 64,
  maxItems: 4_000_000,
  maxIntegerDigits: 64,
  allowUnsortedKeys: true,
} as const satisfies Required<DecodeOptions>;

export interface DecodedDocument {
  readonly value: BValue;
  /** End offset of the root value (equals the input length unless trailing data was allowed). */
  readonly end: number;
  /** Exact `[start, end)` byte span of any decoded string, list or dict in the input. */
  spanOf(value: object): Span | undefined;
}

const CH_e = 0x65;
const CH_i = 0x69;
const CH_l = 0x6c;
const CH_d = 0x64;
const CH_0 = 0x30;
const CH_9 = 0x39;
const CH_COLON = 0x3a;
const CH_MINUS = 0x2d;

type Frame =
  | { readonly kind: 'list'; readonly value: BValue[]; readonly start: number }
  | {
      readonly kind: 'dict';
      readonly value: BDict;
      readonly start: number;
      pendingKey: string | null;
      lastKey: string | null;
    };

/** Decode a complete document: exactly one value and nothing after it. */
export function decode(input: Uint8Array, options?: DecodeOptions): BValue {
  return decodeInternal(input, 0, options, false, false).value;
}

/** Decode a complete document and keep the byte span of each container and string. */
export function decodeDocument(input: Uint8Array, options?: DecodeOptions): DecodedDocument {
  return decodeInternal(input, 0, options, false, true);
}

/**
 * Decode one value at the start of `input` and report where it ends; the rest is left to the
 * caller (BEP 9 `ut_metadata` data messages carry raw bytes after the dictionary).
 */
export function decodePrefix(input: Uint8Array, options?: DecodeOptions): DecodedDocument {
  return decodeInternal(input, 0, options, true, true);
}

function decodeInternal(
  input: Uint8Array,
  start: number,
  options: DecodeOptions | undefined,
  allowTrailing: boolean,
  keepSpans: boolean,
): DecodedDocument {
  const limits = { ...DEFAULT_DECODE_LIMITS, ...options };
  const len = input.length;
  if (len > limits.maxBytes) {
    throw new BencodeError(
      'BENCODE_TOO_LARGE',
      `input of ${len} bytes exceeds the limit of ${limits.maxBytes}`,
      0,
    );
  }
  if (start >= len) throw new BencodeError('BENCODE_EMPTY', 'no bencode value (empty input)', start);

  const spans = keepSpans ? new WeakMap<object, Span>() : null;
  const stack: Frame[] = [];
  let pos = start;
  let items = 0;

  for (;;) {
    if (pos >= len) throw new BencodeError('BENCODE_TRUNCATED', 'input ends inside a value', pos);
    const c = input[pos]!;
    const top = stack[stack.length - 1];
    let value: BValue;
    const valueStart = pos;

    if (c === CH_e) {
      if (!top)
        throw new BencodeError('BENCODE_UNEXPECTED_BYTE', "unexpected 'e' outside a list or dictionary", pos);
      if (top.kind === 'dict' && top.pendingKey !== null) {
        throw new BencodeError('BENCODE_UNEXPECTED_BYTE', 'dictionary key without a value', pos);
      }
      stack.pop();
      pos++;
      value = top.value;
      spans?.set(value, { start: top.start, end: pos });
    } else if (c === CH_l || c === CH_d) {
      if (top?.kind === 'dict' && top.pendingKey === null) {
        throw new BencodeError('BENCODE_KEY_NOT_STRING', 'dictionary key must be a byte string', pos);
      }
      if (stack.length >= limits.maxDepth) {
        throw new BencodeError('BENCODE_TOO_DEEP', `nesting deeper than ${limits.maxDepth}`, pos);
      }
      if (++items > limits.maxItems) {
        throw new BencodeError('BENCODE_TOO_MANY_ITEMS', `more than ${limits.maxItems} values`, pos);
      }
      stack.push(
        c === CH_l
          ? { kind: 'list', value: [], start: pos }
          : { kind: 'dict', value: new Map(), start: pos, pendingKey: null, lastKey: null },
      );
      pos++;
      continue;
    } else if (c === CH_i) {
      if (++items > limits.maxItems) {
        throw new BencodeError('BENCODE_TOO_MANY_ITEMS', `more than ${limits.maxItems} values`, pos);
      }
      const parsed = parseInteger(input, pos, limits.maxIntegerDigits);
      value = parsed.value;
      pos = parsed.end;
    } else if (c >= CH_0 && c <= CH_9) {
      if (++items > limits.maxItems) {
        throw new BencodeError('BENCODE_TOO_MANY_ITEMS', `more than ${limits.maxItems} values`, pos);
      }
      const parsed = parseString(input, pos);
      value = parsed.value;
      pos = parsed.end;
      spans?.set(value, { start: valueStart, end: pos });
    } else {
      throw new BencodeError(
        'BENCODE_UNEXPECTED_BYTE',
        `unexpected byte 0x${c.toString(16).padStart(2, '0')} where a value should start`,
        pos,
      );
    }

    const parent = stack[stack.length - 1];
    if (!parent) {
      if (!allowTrailing && pos !== len) {
        throw new BencodeError(
          'BENCODE_TRAILING_DATA',
          `${len - pos} bytes of trailing data after the value`,
          pos,
        );
      }
      return {
        value,
        end: pos,
        spanOf: (v: object) => spans?.get(v),
      };
    }
    if (parent.kind === 'list') {
      parent.value.push(value);
    } else if (parent.pendingKey === null) {
      if (!(value instanceof Uint8Array)) {
        throw new BencodeError('BENCODE_KEY_NOT_STRING', 'dictionary key must be a byte string', valueStart);
      }
      const key = binaryKey(value);
      if (parent.value.has(key)) {
        throw new BencodeError(
          'BENCODE_DUPLICATE_KEY',
          `duplicate dictionary key ${JSON.stringify(key)}`,
          valueStart,
        );
      }
      if (!limits.allowUnsortedKeys && parent.lastKey !== null && key < parent.lastKey) {
        throw new BencodeError(
          'BENCODE_UNSORTED_KEYS',
          `dictionary key ${JSON.stringify(key)} is out of order`,
          valueStart,
        );
      }
      parent.pendingKey = key;
    } else {
      parent.value.set(parent.pendingKey, value);
      parent.lastKey = parent.pendingKey;
      parent.pendingKey = null;
    }
  }
}

function parseInteger(
  input: Uint8Array,
  start: number,
  maxDigits: number,
): { value: number | bigint; end: number } {
  let pos = start + 1;
  const len = input.length;
  const isNegative = input[pos] === CH_MINUS;
  if (isNegative) pos++;
  const digitsStart = pos;
  while (pos < len && input[pos]! >= CH_0 && input[pos]! <= CH_9) {
    pos++;
    if (pos - digitsStart > maxDigits) {
      throw new BencodeError('BENCODE_BAD_INTEGER', `integer longer than ${maxDigits} digits`, start);
    }
  }
  if (pos >= len) throw new BencodeError('BENCODE_TRUNCATED', 'input ends inside an integer', pos);
  if (input[pos] !== CH_e) {
    throw new BencodeError('BENCODE_BAD_INTEGER', "integer must be digits followed by 'e'", pos);
  }
  const digitCount = pos - digitsStart;
  if (digitCount === 0) throw new BencodeError('BENCODE_BAD_INTEGER', 'integer has no digits', start);
  if (input[digitsStart] === CH_0) {
    if (isNegative)
      throw new BencodeError('BENCODE_NEGATIVE_ZERO', 'negative zero (i-0e) is not allowed', start);
    if (digitCount > 1) throw new BencodeError('BENCODE_LEADING_ZERO', 'integer has a leading zero', start);
  }
  let text = '';
  for (let i = digitsStart; i < pos; i++) text += String.fromCharCode(input[i]!);
  let value: number | bigint;
  if (digitCount <= 15) {
    value = Number(text);
    if (isNegative) value = -value;
  } else {
    const big = BigInt(isNegative ? `-${text}` : text);
    value =
      big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  return { value, end: pos + 1 };
}

/** Longest accepted length prefix: 15 digits already exceeds any input we accept. */
const MAX_LENGTH_DIGITS = 15;

function parseString(input: Uint8Array, start: number): { value: Uint8Array; end: number } {
  const len = input.length;
  let pos = start;
  let length = 0;
  while (pos < len && input[pos] !== CH_COLON) {
    const c = input[pos]!;
    if (c < CH_0 || c > CH_9) {
      throw new BencodeError(
        'BENCODE_BAD_STRING_LENGTH',
        "string length must be digits followed by ':'",
        pos,
      );
    }
    if (pos - start >= MAX_LENGTH_DIGITS) {
      throw new BencodeError('BENCODE_BAD_STRING_LENGTH', 'string length has too many digits', start);
    }
    length = length * 10 + (c - CH_0);
    pos++;
  }
  if (pos >= len) throw new BencodeError('BENCODE_TRUNCATED', 'input ends inside a string length', pos);
  if (input[start] === CH_0 && pos - start > 1) {
    throw new BencodeError('BENCODE_LEADING_ZERO', 'string length has a leading zero', start);
  }
  pos++; // ':'
  // The check that makes a forged length harmless: nothing is read or allocated past the input.
  if (length > len - pos) {
    throw new BencodeError(
      'BENCODE_TRUNCATED',
      `string of ${length} bytes exceeds the ${len - pos} bytes remaining`,
      start,
    );
  }
  return { value: input.subarray(pos, pos + length), end: pos + length };
}
