export { getSafeInt, getText, isBytes, isDict, isInteger, isList } from './access.js';
export {
  DEFAULT_DECODE_LIMITS,
  type DecodedDocument,
  type DecodeOptions,
  decode,
  decodeDocument,
  decodePrefix,
} from './decode.js';
export { encode } from './encode.js';
export { BencodeError, type BencodeErrorCode } from './errors.js';
export {
  type BDict,
  type BEncodable,
  type BValue,
  binaryKey,
  keyBytes,
  RawBencode,
  type Span,
} from './types.js';
