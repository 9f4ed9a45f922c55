import { PeerdropError } from '../util/errors.js';

/** Stable codes of the index server; each maps to one HTTP status (see {@link httpStatusOf}). */
export type IndexErrorCode =
  | 'BODY_TOO_LARGE'
  | 'BAD_JSON'
  | 'BAD_REQUEST'
  | 'ENTRY_INVALID'
  | 'ENTRY_NOT_CANONICAL'
  | 'BAD_SIGNATURE'
  | 'NOT_OWNER'
  | 'SEQ_NOT_INCREASING'
  | 'ENTRY_EXISTS'
  | 'HASH_CONFLICT'
  | 'NOT_FOUND'
  | 'TAKEN_DOWN'
  | 'QUERY_INVALID'
  | 'QUERY_TOO_LONG'
  | 'PAGE_OUT_OF_RANGE'
  | 'UNAUTHORIZED'
  | 'RATE_LIMITED'
  | 'METHOD_NOT_ALLOWED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'IDENTITY_INVALID'
  | 'INDEX_UNAVAILABLE'
  | 'INDEX_BAD_REPLY'
  | 'INTERNAL';

const STATUS: Record<IndexErrorCode, number> = {
  BODY_TOO_LARGE: 413,
  BAD_JSON: 400,
  BAD_REQUEST: 400,
  ENTRY_INVALID: 400,
  ENTRY_NOT_CANONICAL: 400,
  BAD_SIGNATURE: 401,
  NOT_OWNER: 403,
  SEQ_NOT_INCREASING: 409,
  ENTRY_EXISTS: 409,
  HASH_CONFLICT: 409,
  NOT_FOUND: 404,
  TAKEN_DOWN: 410,
  QUERY_INVALID: 400,
  QUERY_TOO_LONG: 414,
  PAGE_OUT_OF_RANGE: 400,
  UNAUTHORIZED: 401,
  RATE_LIMITED: 429,
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDENTITY_INVALID: 500,
  INDEX_UNAVAILABLE: 503,
  // Client side: an index answered something that is not a valid reply.
  INDEX_BAD_REPLY: 502,
  INTERNAL: 500,
};

/** An index-server failure with a stable `code`; the HTTP API answers `{ error: { code, message } }`. */
export class IndexError extends PeerdropError {
  declare readonly code: IndexErrorCode;

  constructor(code: IndexErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }

  get httpStatus(): number {
    return httpStatusOf(this.code);
  }
}

export function httpStatusOf(code: IndexErrorCode): number {
  return STATUS[code];
}
