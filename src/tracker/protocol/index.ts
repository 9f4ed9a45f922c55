export * from './announce.js';
export * from './compact.js';
export * from './http.js';
export * from './udp.js';
