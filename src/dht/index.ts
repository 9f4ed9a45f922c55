/** The Mainline DHT: pure node, codec, routing table, items, adapters and the testnet. */
export { DhtError, type DhtErrorCode } from './errors.js';
export {
  type DhtItem,
  generateItemKeyPair,
  type ItemKeyPair,
  immutableTarget,
  itemKeyPairFromSeed,
  mutableTarget,
  signItem,
  textValue,
  verifyItem,
} from './items.js';
export { decodeKrpc, encodeKrpc, KrpcError, type KrpcMessage, type NodeContact } from './krpc.js';
export { DhtNode, type DhtNodeOptions, type DhtStats } from './node.js';
export { compliantId, isCompliantId } from './node-id.js';
export { DhtPeerDiscovery } from './peer-discovery.js';
export { RoutingTable } from './routing-table.js';
export { Testnet, type TestnetOptions } from './testnet.js';
export { startUdpDht, type UdpDht, type UdpDhtOptions } from './udp-adapter.js';
