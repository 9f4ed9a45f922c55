import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { formatIpv4, formatIpv6, hostPortProblem, parseHostPort, parsePortText } from '../src/util/ip.js';
import { fuzzParams } from './fuzz-config.js';

/** The strict CLI parsers for ports and peer addresses (issue 9 and 13). */
const port = fc.integer({ min: 1, max: 65535 });
const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => formatIpv4(b));
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIpv6(b));
const text = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: fc.constantFrom(...'0123456789:.[]abcdefx-+ e%'), maxLength: 30 }),
);

describe('port and peer address fuzz', () => {
  test('a port is exactly its decimal text: anything Number() would also take is refused', () => {
    fc.assert(
      fc.property(text, fc.boolean(), (s, allowZero) => {
        const p = parsePortText(s, allowZero);
        if (p === null) return;
        assert.equal(String(p), s);
        assert.ok(p >= (allowZero ? 0 : 1) && p <= 65535);
      }),
      fuzzParams(3000),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), (n) => {
        assert.equal(parsePortText(String(n), true), n);
        for (const alias of [`${n}e0`, `0x${n.toString(16)}`, ` ${n}`, `${n} `, `+${n}`, `0${n}`])
          assert.equal(parsePortText(alias, true), null, alias);
      }),
      fuzzParams(500),
    );
  });

  test('every IPv4 and bracketed IPv6 address with a port is accepted and read back', () => {
    fc.assert(
      fc.property(fc.oneof(ipv4, ipv6), port, (host, p) => {
        const text = host.includes(':') ? `[${host}]:${p}` : `${host}:${p}`;
        assert.equal(hostPortProblem(text), null, text);
        assert.deepEqual(parseHostPort(text), { host, port: p });
      }),
      fuzzParams(1000),
    );
  });

  test('an IPv6 address without brackets is refused with the bracketed form as the hint', () => {
    fc.assert(
      fc.property(ipv6, port, (host, p) => {
        assert.equal(parseHostPort(`${host}:${p}`), null);
        assert.match(hostPortProblem(`${host}:${p}`) ?? '', /brackets/);
      }),
      fuzzParams(500),
    );
  });

  test('arbitrary text never throws, and what is accepted formats back to itself', () => {
    fc.assert(
      fc.property(text, (s) => {
        const a = parseHostPort(s);
        assert.equal(a === null, hostPortProblem(s) !== null);
        if (a) assert.equal(a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`, s);
      }),
      fuzzParams(3000),
    );
  });
});
