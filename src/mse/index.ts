/** MSE/PE (Message Stream Encryption): the pure handshake core and the Transport wrapper. */
export { MseError, type MseErrorCode } from './errors.js';
export {
  CRYPTO_PLAINTEXT,
  CRYPTO_RC4,
  type CryptoMethod,
  classifyIncoming,
  MseInitiator,
  MseResponder,
  type MseResult,
} from './handshake.js';
export { MseConnection } from './mse-connection.js';
export {
  ENCRYPTION_POLICIES,
  type EncryptionPolicy,
  encryptionTransportOptions,
  type MseStats,
  MseTransport,
  type MseTransportOptions,
  parseEncryptionPolicy,
} from './mse-transport.js';
export { Rc4 } from './rc4.js';
