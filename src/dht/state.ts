/**
 * The saved form of a node: its id and routing table, bencoded
 * (`{id: 20 bytes, nodes: compact IPv4 nodes, nodes6: compact IPv6 nodes}`), so a restart can
 * rejoin through the nodes it knew instead of the bootstrap nodes. Read with the same care as
 * anything from the network: the file may be damaged or planted.
 */
import { decode, encode, isBytes, isDict } from '../bencode/index.js';
import { formatIpv4, formatIpv6 } from '../util/ip.js';
import { DhtError } from './errors.js';
import { encodeCompactNodes, type NodeContact } from './krpc.js';

/** More than a full table (two families of ~400 entries). */
export const MAX_SAVED_NODES = 2000;
const MAX_STATE_BYTES = 2 * MAX_SAVED_NODES * 38 + 1024;

export function encodeState(id: Uint8Array, nodes: readonly NodeContact[]): Uint8Array {
  const v4 = nodes.filter((n) => !n.host.includes(':')).slice(0, MAX_SAVED_NODES);
  const v6 = nodes.filter((n) => n.host.includes(':')).slice(0, MAX_SAVED_NODES);
  return encode({ id, nodes: encodeCompactNodes(v4, 4), nodes6: encodeCompactNodes(v6, 6) });
}

export function decodeState(bytes: Uint8Array): { id: Uint8Array; nodes: NodeContact[] } {
  let root: ReturnType<typeof decode>;
  try {
    root = decode(bytes, { maxBytes: MAX_STATE_BYTES, maxDepth: 2, maxItems: 16 });
  } catch (err) {
    throw new DhtError('DHT_BAD_STATE', 'the saved DHT state is not valid bencode', { cause: err });
  }
  if (!isDict(root)) throw new DhtError('DHT_BAD_STATE', 'the saved DHT state is not a dictionary');
  const id = root.get('id');
  if (!isBytes(id) || id.length !== 20) throw new DhtError('DHT_BAD_STATE', 'the saved id is not 20 bytes');
  const nodes: NodeContact[] = [];
  for (const [key, size] of [
    ['nodes', 26],
    ['nodes6', 38],
  ] as const) {
    const v = root.get(key);
    if (v === undefined) continue;
    if (!isBytes(v) || v.length % size !== 0 || v.length / size > MAX_SAVED_NODES)
      throw new DhtError('DHT_BAD_STATE', `saved ${key} is not a list of compact nodes`);
    for (let at = 0; at < v.length; at += size) {
      const port = (v[at + size - 2]! << 8) | v[at + size - 1]!;
      if (port === 0) continue;
      const host = size === 26 ? formatIpv4(v, at + 20) : formatIpv6(v, at + 20);
      nodes.push({ id: v.slice(at, at + 20), host, port });
    }
  }
  return { id: id.slice(), nodes };
}
