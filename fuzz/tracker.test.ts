import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BencodeError, encode } from '../src/bencode/index.js';
import { TrackerError } from '../src/tracker/errors.js';
import {
  decodeAnnounceResponse,
  decodeScrapeResponse,
  encodeAnnounceResponse,
  parseAnnounceQuery,
  parseScrapeQuery,
} from '../src/tracker/protocol/http.js';
import {
  decodeUdpRequest,
  decodeUdpResponse,
  encodeUdpRequest,
  encodeUdpResponse,
} from '../src/tracker/protocol/udp.js';
import { fuzzParams } from './fuzz-config.js';

/** Only our documented errors may escape a tracker parser. */
function onlyOurErrors(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    if (err instanceof TrackerError || err instanceof BencodeError) return;
    throw err;
  }
}

const bencodeish = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.integer({ min: -5, max: 100_000 }),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.constantFrom(
        'interval',
        'min interval',
        'peers',
        'peers6',
        'complete',
        'incomplete',
        'failure reason',
        'warning message',
        'tracker id',
        'files',
        'ip',
        'port',
        'peer id',
      ),
      tie('value'),
      { maxKeys: 6 },
    ),
  ),
})).value;

test('announce and scrape response decoders throw only TrackerError/BencodeError on random bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      onlyOurErrors(() => decodeAnnounceResponse(bytes));
      onlyOurErrors(() => decodeScrapeResponse(bytes));
    }),
    fuzzParams(),
  );
});

test('announce and scrape response decoders throw only our errors on structured bencode', () => {
  fc.assert(
    fc.property(bencodeish, (value) => {
      const bytes = encode(value as never);
      onlyOurErrors(() => decodeAnnounceResponse(bytes, { maxPeers: 50 }));
      onlyOurErrors(() => decodeScrapeResponse(bytes));
    }),
    fuzzParams(),
  );
});

test('UDP packet decoders throw only TrackerError on random bytes, and re-encode what they accept', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      fc.constantFrom(4 as const, 6 as const),
      (bytes, family) => {
        try {
          const res = decodeUdpResponse(bytes, family);
          if (res.action !== 'error')
            assert.deepEqual(encodeUdpResponse(res, family).length <= bytes.length, true);
        } catch (err) {
          if (!(err instanceof TrackerError)) throw err;
        }
        try {
          const req = decodeUdpRequest(bytes);
          // Accepted requests re-encode to a packet the decoder accepts again with the same meaning.
          assert.deepEqual(decodeUdpRequest(encodeUdpRequest(req)), req);
        } catch (err) {
          if (!(err instanceof TrackerError)) throw err;
        }
      },
    ),
    fuzzParams(),
  );
});

test('raw query parsers throw only TrackerError on random query strings', () => {
  const chars = fc.constantFrom(
    ...'abc%=&+0123456789_ih\u00ff\u0100'.split(''),
    'info_hash=',
    'peer_id=',
    'port=',
    '%4',
    '%zz',
  );
  fc.assert(
    fc.property(
      fc.array(chars, { maxLength: 80 }).map((a) => a.join('')),
      (q) => {
        onlyOurErrors(() => parseAnnounceQuery(q));
        onlyOurErrors(() => parseScrapeQuery(q));
      },
    ),
    fuzzParams(),
  );
});

test('compact announce responses round-trip for random peer lists', () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
  const peer = fc.record({ host: v4, port: fc.integer({ min: 1, max: 65535 }) });
  fc.assert(
    fc.property(fc.array(peer, { maxLength: 30 }), fc.nat(100_000), (peers, interval) => {
      const bytes = encodeAnnounceResponse({ intervalSeconds: interval, peers }, { compact: true });
      assert.deepEqual(
        decodeAnnounceResponse(bytes).peers,
        peers.map((p) => ({ host: p.host, port: p.port })),
      );
    }),
    fuzzParams(),
  );
});
