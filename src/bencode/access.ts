import { decodeUtf8Strict } from '../util/bytes.js';
import type { BDict, BValue } from './types.js';

/**
 * Typed readers for decoded documents. They return `undefined` for a missing key and throw
 * nothing: validation code decides what is an error and says so in its own vocabulary.
 */
export function isDict(v: BValue | undefined): v is BDict {
  return v instanceof Map;
}

export function isList(v: BValue | undefined): v is BValue[] {
  return Array.isArray(v);
}

export function isBytes(v: BValue | undefined): v is Uint8Array {
  return v instanceof Uint8Array;
}

export function isInteger(v: BValue | undefined): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** The UTF-8 text of a byte-string value, or undefined if absent, not bytes, or not valid UTF-8. */
export function getText(dict: BDict, key: string): string | undefined {
  const v = dict.get(key);
  return v instanceof Uint8Array ? (decodeUtf8Strict(v) ?? undefined) : undefined;
}

/** A safe-integer value, or undefined if absent, not an integer, or beyond 2^53. */
export function getSafeInt(dict: BDict, key: string): number | undefined {
  const v = dict.get(key);
  return typeof v === 'number' ? v : undefined;
}
