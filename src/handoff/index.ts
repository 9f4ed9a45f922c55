/**
 * Person-to-person transfer (`peerdrop send` / `receive`), as a library: what the web UI's
 * Send page and Receive box use. Design and reasons: each module header.
 */
export { type HandoffCode, HandoffCodeError, makeCode, parseCode, WORDS } from './code.js';
export type { Offer, OfferFile } from './control.js';
export { HandoffError } from './handoff-transport.js';
export { CODE_MISMATCH_MESSAGE, HandshakeError } from './handshake.js';
export type { DhtOptions, LanOptions } from './meet.js';
export { HandoffReceiver, type ReceiveOptions, type ReceiveResult, receive } from './receiver.js';
export { HandoffSender, type SendOptions, startSend } from './sender.js';
