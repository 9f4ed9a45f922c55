/**
 * Parsed IP literals, cached: the DHT turns the same few hundred addresses into bytes on every
 * compact node list, token and subnet check, and text parsing dominated a 500-node testnet.
 */
import { parseIpv4, parseIpv6 } from '../util/ip.js';

// Above a simulation's node count (10,000 in dht-sim): a cache that clears itself on every
// lookup's worth of new addresses parses everything again.
const MAX_CACHED = 65_536;
const cache = new Map<string, Uint8Array | null>();

/** The 4 or 16 bytes of an IP literal, or null; callers must not modify the result. */
export function ipBytes(host: string): Uint8Array | null {
  const hit = cache.get(host);
  if (hit !== undefined) return hit;
  const bytes = parseIpv4(host) ?? parseIpv6(host);
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(host, bytes);
  return bytes;
}
