import { PeerdropError } from '../util/errors.js';

/** Every way a bencode document can be rejected. Stable: other code and tests match on these. */
export type BencodeErrorCode =
  | 'BENCODE_EMPTY'
  | 'BENCODE_TRUNCATED'
  | 'BENCODE_UNEXPECTED_BYTE'
  | 'BENCODE_BAD_INTEGER'
  | 'BENCODE_LEADING_ZERO'
  | 'BENCODE_NEGATIVE_ZERO'
  | 'BENCODE_BAD_STRING_LENGTH'
  | 'BENCODE_KEY_NOT_STRING'
  | 'BENCODE_DUPLICATE_KEY'
  | 'BENCODE_UNSORTED_KEYS'
  | 'BENCODE_TRAILING_DATA'
  | 'BENCODE_TOO_DEEP'
  | 'BENCODE_TOO_MANY_ITEMS'
  | 'BENCODE_TOO_LARGE'
  | 'BENCODE_UNENCODABLE';

export class BencodeError extends PeerdropError {
  declare readonly code: BencodeErrorCode;
  /** Byte offset in the input where the problem was found (-1 for encoder errors). */
  readonly offset: number;

  constructor(code: BencodeErrorCode, message: string, offset: number) {
    super(code, offset >= 0 ? `${message} at byte ${offset}` : message);
    this.offset = offset;
  }
}
