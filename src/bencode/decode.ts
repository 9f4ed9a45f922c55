import { BencodeError } from './errors.js';
import type { BDict, BValue, Span } from './types.js';

/**
 * Limits checked before anything is allocated. Bencode arrives from strangers (torrent files,
 * trackers, DHT nodes, peers), so every dimension is bounded:
 * - `maxBytes`: the whole input; anything longer is refused before parsing starts.
 * - `maxDepth`: nesting of lists/dicts. The decoder is iterative, so depth costs heap, not stack.
 * - `maxItems`: total values (every string, integer, list and dict, keys included). Each value
 *   costs heap (a string is a `Uint8Array` view, ~80 bytes), so this is the bound on memory;
 *   every value also needs at least 2 input bytes, so `maxBytes / 2` is the most it can matter.
 *   Torrent parsing derives its own from the file limit (see `metainfo/limits.ts`).
 * - `maxIntegerDigits`: integers are arbitrary precision in bencode; parsing huge ones is quadratic.
 */
export interface DecodeOptions {
  maxBytes?: number;
  maxDepth?: number;
  maxItems?: number;
  maxIntegerDigits?: number;
  /**
   * Heap the decoded values may take, as a multiple of the input size (default 24, never less
   * than {@link MIN_HEAP_BUDGET_BYTES}). `maxItems` alone does not bound memory: 17,000,000
   * two-byte strings fit a 34 MB torrent and cost ~2 GB of views. An input large enough to get
   * there is first walked without allocating anything, its heap estimated from the values it
   * holds (`HEAP_COST`), and refused with `BENCODE_TOO_MANY_ITEMS` before one value is built.
   * Real torrents stay far below: ~12 bytes of heap per input byte for a dense file list.
   */
  maxHeapPerInputByte?: number;
  /**
   * Old torrents exist whose dictionaries are not sorted. By default they are accepted (the
   * info-hash is always taken over the exact input bytes, never a re-encoding); set `false`
   * to reject them with `BENCODE_UNSORTED_KEYS`. Duplicate keys are always rejected.
   */
  allowUnsortedKeys?: boolean;
}

export interface DecodeDocumentOptions extends DecodeOptions {
  /**
   * Keep byte spans only for values nested at most this deep (the root is depth 0, the values
   * of a top-level dictionary depth 1). Default: every value. A torrent needs only its `info`
   * span; recording millions of spans it never asks for cost more than the decoding itself.
   */
  spanDepth?: number;
}

export const DEFAULT_DECODE_LIMITS = {
  maxBytes: 64 * 1024 * 1024,
  maxDepth: 64,
  maxItems: 4_000_000,
  maxIntegerDigits: 64,
  maxHeapPerInputByte: 24,
  allowUnsortedKeys: true,
} as const satisfies Required<DecodeOptions>;

/** The heap budget never goes below this (small inputs are never pre-scanned). */
export const MIN_HEAP_BUDGET_BYTES = 64 * 1024 * 1024;

/**
 * Estimated heap per decoded value (V8, 64-bit, measured on Node 20): a byte string is a
 * `Uint8Array` view; a dict a `Map` plus its entries (keys are shared strings); a list an
 * exactly-sized array. Integers are small integers, held in their container's slot.
 */
const HEAP_COST = { string: 96, dict: 120, dictEntry: 32, list: 32, listItem: 8 } as const;
/** The most heap one input byte can produce: a 2-byte string (`0:`) in a list. */
const WORST_HEAP_PER_BYTE = (HEAP_COST.string + HEAP_COST.listItem) / 2;

export interface DecodedDocument {
  readonly value: BValue;
  /** End offset of the root value (equals the input length unless trailing data was allowed). */
  readonly end: number;
  /**
   * Exact `[start, end)` byte span of a decoded string, list or dict in the input (within
   * `spanDepth`; undefined for values deeper than that).
   */
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

/** Longest accepted length prefix: 15 digits already exceeds any input we accept. */
const MAX_LENGTH_DIGITS = 15;
/** Integers up to this many digits are exact as a double, so they are summed without text. */
const MAX_NUMBER_DIGITS = 15;

/**
 * An open list or dict. A list's items wait on the shared `items` stack from `base` on and
 * become an exactly-sized array when it closes (a growing array would keep up to 16 empty slots
 * per list, which is most of the memory of a million-file torrent).
 */
interface Frame {
  readonly isDict: boolean;
  readonly start: number;
  /** List: index of its first item on the shared stack. */
  readonly base: number;
  readonly dict: BDict | null;
  pendingKey: string | null;
  lastKey: string | null;
}

/** Decode a complete document: exactly one value and nothing after it. */
export function decode(input: Uint8Array, options?: DecodeOptions): BValue {
  return new Decoder(input, options, -1).run(false).value;
}

/** Decode a complete document and keep the byte span of each container and string. */
export function decodeDocument(input: Uint8Array, options?: DecodeDocumentOptions): DecodedDocument {
  return new Decoder(input, options, options?.spanDepth ?? Number.MAX_SAFE_INTEGER).run(false);
}

/**
 * Decode one value at the start of `input` and report where it ends; the rest is left to the
 * caller (BEP 9 `ut_metadata` data messages carry raw bytes after the dictionary).
 */
export function decodePrefix(input: Uint8Array, options?: DecodeDocumentOptions): DecodedDocument {
  return new Decoder(input, options, options?.spanDepth ?? Number.MAX_SAFE_INTEGER).run(true);
}

/**
 * Dictionary keys repeat (`length`, `path` a million times in a big torrent): a small
 * direct-mapped cache hands back the same string for the same bytes, so a repeated key costs
 * no allocation and its hash is computed once.
 */
const KEY_CACHE_SIZE = 256;
const MAX_CACHED_KEY_BYTES = 32;

class Decoder {
  private readonly limits: Required<DecodeOptions>;
  private readonly spans: Map<object, Span> | null;
  private readonly stack: Frame[] = [];
  private readonly items: BValue[] = [];
  private readonly keyCache: (string | undefined)[] = new Array(KEY_CACHE_SIZE);
  private pos = 0;
  private itemCount = 0;

  constructor(
    private readonly input: Uint8Array,
    options: DecodeOptions | undefined,
    /** Deepest level whose spans are kept; -1 keeps none. */
    private readonly spanDepth: number,
  ) {
    this.limits = { ...DEFAULT_DECODE_LIMITS, ...options };
    this.spans = spanDepth >= 0 ? new Map() : null;
  }

  run(allowTrailing: boolean): DecodedDocument {
    const { input, limits } = this;
    const len = input.length;
    if (len > limits.maxBytes) {
      throw new BencodeError(
        'BENCODE_TOO_LARGE',
        `input of ${len} bytes exceeds the limit of ${limits.maxBytes}`,
        0,
      );
    }
    if (len === 0) throw new BencodeError('BENCODE_EMPTY', 'no bencode value (empty input)', 0);
    const budget = Math.max(MIN_HEAP_BUDGET_BYTES, limits.maxHeapPerInputByte * len);
    if (len * WORST_HEAP_PER_BYTE > budget) {
      const heap = estimateHeap(input, limits.maxDepth, budget);
      if (heap > budget) {
        throw new BencodeError(
          'BENCODE_TOO_MANY_ITEMS',
          `values would take more than ${Math.round(budget / 2 ** 20)} MiB of memory (${limits.maxHeapPerInputByte}× the input)`,
          0,
        );
      }
    }
    const value = this.readRoot();
    if (!allowTrailing && this.pos !== len) {
      throw new BencodeError(
        'BENCODE_TRAILING_DATA',
        `${len - this.pos} bytes of trailing data after the value`,
        this.pos,
      );
    }
    const spans = this.spans;
    return { value, end: this.pos, spanOf: (v: object) => spans?.get(v) };
  }

  private readRoot(): BValue {
    const { input, stack } = this;
    const len = input.length;
    for (;;) {
      if (this.pos >= len) throw new BencodeError('BENCODE_TRUNCATED', 'input ends inside a value', this.pos);
      const top = stack.length > 0 ? stack[stack.length - 1]! : null;
      const c = input[this.pos]!;
      if (top?.isDict && top.pendingKey === null && c !== CH_e) {
        this.readKey(top);
        continue;
      }
      let value: BValue;
      if (c === CH_e) {
        if (!top)
          throw new BencodeError(
            'BENCODE_UNEXPECTED_BYTE',
            "unexpected 'e' outside a list or dictionary",
            this.pos,
          );
        value = this.close(top);
      } else if (c === CH_l || c === CH_d) {
        this.open(c === CH_d);
        continue;
      } else {
        const start = this.pos;
        value = this.readScalar(c);
        if (value instanceof Uint8Array && this.spans && stack.length <= this.spanDepth)
          this.spans.set(value, { start, end: this.pos });
      }
      const parent = stack.length > 0 ? stack[stack.length - 1]! : null;
      if (!parent) return value;
      if (parent.dict) {
        parent.dict.set(parent.pendingKey!, value);
        parent.lastKey = parent.pendingKey;
        parent.pendingKey = null;
      } else {
        this.items.push(value);
      }
    }
  }

  private count(): void {
    if (++this.itemCount > this.limits.maxItems) {
      throw new BencodeError('BENCODE_TOO_MANY_ITEMS', `more than ${this.limits.maxItems} values`, this.pos);
    }
  }

  private open(isDict: boolean): void {
    if (this.stack.length >= this.limits.maxDepth) {
      throw new BencodeError('BENCODE_TOO_DEEP', `nesting deeper than ${this.limits.maxDepth}`, this.pos);
    }
    this.count();
    this.stack.push({
      isDict,
      start: this.pos,
      base: this.items.length,
      dict: isDict ? new Map() : null,
      pendingKey: null,
      lastKey: null,
    });
    this.pos++;
  }

  private close(top: Frame): BValue {
    if (top.pendingKey !== null) {
      throw new BencodeError('BENCODE_UNEXPECTED_BYTE', 'dictionary key without a value', this.pos);
    }
    this.stack.pop();
    this.pos++;
    let value: BValue;
    if (top.dict) value = top.dict;
    else {
      value = this.items.slice(top.base);
      this.items.length = top.base;
    }
    if (this.spans && this.stack.length <= this.spanDepth)
      this.spans.set(value, { start: top.start, end: this.pos });
    return value;
  }

  private readScalar(c: number): BValue {
    if (c === CH_i) {
      this.count();
      return this.readInteger();
    }
    if (c >= CH_0 && c <= CH_9) {
      this.count();
      const length = this.readLength();
      const value = this.input.subarray(this.pos, this.pos + length);
      this.pos += length;
      return value;
    }
    throw new BencodeError(
      'BENCODE_UNEXPECTED_BYTE',
      `unexpected byte 0x${c.toString(16).padStart(2, '0')} where a value should start`,
      this.pos,
    );
  }

  /** A dictionary key: a byte string, turned straight into a binary string (no view made). */
  private readKey(dict: Frame): void {
    const { input } = this;
    const keyStart = this.pos;
    const c = input[keyStart]!;
    if (c < CH_0 || c > CH_9) {
      throw new BencodeError('BENCODE_KEY_NOT_STRING', 'dictionary key must be a byte string', keyStart);
    }
    this.count();
    const length = this.readLength();
    const key = this.keyText(this.pos, length);
    this.pos += length;
    if (dict.dict!.has(key)) {
      throw new BencodeError(
        'BENCODE_DUPLICATE_KEY',
        `duplicate dictionary key ${JSON.stringify(key)}`,
        keyStart,
      );
    }
    if (!this.limits.allowUnsortedKeys && dict.lastKey !== null && key < dict.lastKey) {
      throw new BencodeError(
        'BENCODE_UNSORTED_KEYS',
        `dictionary key ${JSON.stringify(key)} is out of order`,
        keyStart,
      );
    }
    dict.pendingKey = key;
  }

  private keyText(start: number, length: number): string {
    const { input } = this;
    if (length > MAX_CACHED_KEY_BYTES) return binaryText(input, start, length);
    let hash = length;
    for (let i = start; i < start + length; i++) hash = (hash * 31 + input[i]!) | 0;
    const slot = hash & (KEY_CACHE_SIZE - 1);
    const cached = this.keyCache[slot];
    if (cached !== undefined && sameBytes(cached, input, start, length)) return cached;
    const key = binaryText(input, start, length);
    this.keyCache[slot] = key;
    return key;
  }

  /** Reads `<digits>:` and checks that many bytes remain; leaves `pos` after the colon. */
  private readLength(): number {
    const { input } = this;
    const len = input.length;
    const start = this.pos;
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
    this.pos = pos;
    return length;
  }

  private readInteger(): number | bigint {
    const { input } = this;
    const start = this.pos;
    const maxDigits = this.limits.maxIntegerDigits;
    let pos = start + 1;
    const len = input.length;
    const isNegative = input[pos] === CH_MINUS;
    if (isNegative) pos++;
    const digitsStart = pos;
    let sum = 0;
    while (pos < len && input[pos]! >= CH_0 && input[pos]! <= CH_9) {
      sum = sum * 10 + (input[pos]! - CH_0);
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
    this.pos = pos + 1;
    if (digitCount <= MAX_NUMBER_DIGITS) return isNegative ? -sum : sum;
    const big = BigInt(
      binaryText(input, isNegative ? digitsStart - 1 : digitsStart, pos - digitsStart + +isNegative),
    );
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(big)
      : big;
  }
}

/**
 * The heap the decoded values would take (`HEAP_COST`), found by walking the structure without
 * building anything; stops as soon as it passes `budget`. Malformed input ends the walk early
 * with what was counted: the real decoder then reports the error with its offset.
 */
function estimateHeap(input: Uint8Array, maxDepth: number, budget: number): number {
  const len = input.length;
  // Per open container: 1 = list, 2 = dict awaiting a key, 3 = dict awaiting a value.
  const kinds = new Uint8Array(maxDepth + 1);
  let depth = 0;
  let pos = 0;
  let heap = 0;
  while (pos < len && heap <= budget) {
    const c = input[pos]!;
    const top = depth > 0 ? kinds[depth - 1]! : 0;
    if (c === CH_e) {
      if (depth === 0) return heap;
      depth--;
      pos++;
    } else if (top === 2) {
      // A key: skip `<len>:<bytes>`; its string is shared, its Map entry is counted.
      let n = 0;
      while (pos < len && input[pos]! >= CH_0 && input[pos]! <= CH_9) n = n * 10 + (input[pos++]! - CH_0);
      if (input[pos] !== CH_COLON) return heap;
      pos += 1 + n;
      heap += HEAP_COST.dictEntry;
      kinds[depth - 1] = 3;
      continue;
    } else if (c === CH_l || c === CH_d) {
      if (depth >= maxDepth) return heap;
      kinds[depth++] = c === CH_d ? 2 : 1;
      heap += c === CH_d ? HEAP_COST.dict : HEAP_COST.list;
      pos++;
      continue;
    } else if (c === CH_i) {
      while (pos < len && input[pos] !== CH_e) pos++;
      pos++;
    } else if (c >= CH_0 && c <= CH_9) {
      let n = 0;
      while (pos < len && input[pos]! >= CH_0 && input[pos]! <= CH_9) n = n * 10 + (input[pos++]! - CH_0);
      if (input[pos] !== CH_COLON) return heap;
      pos += 1 + n;
      heap += HEAP_COST.string;
    } else return heap;
    // A value ended: it takes its parent's next slot.
    if (depth > 0) {
      const parent = kinds[depth - 1]!;
      if (parent === 1) heap += HEAP_COST.listItem;
      else if (parent === 3) kinds[depth - 1] = 2;
    }
  }
  return heap;
}

/** Bytes as a binary string (one char per byte), as dictionary keys are kept. */
function binaryText(input: Uint8Array, start: number, length: number): string {
  let s = '';
  // Chunks keep the argument count of `fromCharCode` small.
  for (let i = start; i < start + length; i += 4096) {
    s += String.fromCharCode.apply(
      null,
      input.subarray(i, Math.min(start + length, i + 4096)) as unknown as number[],
    );
  }
  return s;
}

function sameBytes(text: string, input: Uint8Array, start: number, length: number): boolean {
  if (text.length !== length) return false;
  for (let i = 0; i < length; i++) if (text.charCodeAt(i) !== input[start + i]) return false;
  return true;
}
