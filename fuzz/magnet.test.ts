import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MetainfoError } from '../src/metainfo/errors.js';
import { formatMagnet, parseMagnet } from '../src/metainfo/magnet.js';
import type { MagnetLink } from '../src/metainfo/types.js';
import { fuzzParams } from './fuzz-config.js';

const text = fc.string({ unit: 'grapheme', maxLength: 30 });
const url = fc.webUrl({ withQueryParameters: true, withFragments: true });

/** Links as `parseMagnet` produces them: at least one hash, unique non-empty lists, sorted `so`. */
const magnetLink: fc.Arbitrary<MagnetLink> = fc
  .record({
    infoHash: fc.option(fc.uint8Array({ minLength: 20, maxLength: 20 }), { nil: null }),
    infoHashV2: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: null }),
    name: fc.option(text, { nil: undefined }),
    trackers: fc.uniqueArray(url, { maxLength: 4 }),
    webSeeds: fc.uniqueArray(url, { maxLength: 2 }),
    peers: fc.uniqueArray(fc.constantFrom('1.2.3.4:1', '[::1]:6881', 'host:80'), { maxLength: 3 }),
    exactLengthBytes: fc.option(fc.maxSafeNat(), { nil: undefined }),
    selectOnly: fc.option(fc.uniqueArray(fc.nat(5000), { minLength: 1, maxLength: 20 }), { nil: undefined }),
  })
  .filter((l) => l.infoHash !== null || l.infoHashV2 !== null)
  .map((l) => {
    const out: Record<string, unknown> = { ...l, selectOnly: l.selectOnly?.sort((a, b) => a - b) };
    for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
    return out as unknown as MagnetLink;
  });

function onlyMagnetErrors(uri: string): void {
  try {
    parseMagnet(uri);
  } catch (err) {
    if (!(err instanceof MetainfoError) || !err.code.startsWith('MAGNET_')) throw err;
  }
}

describe('magnet fuzz', () => {
  test('parseMagnet(formatMagnet(link)) gives back the link', () => {
    fc.assert(
      fc.property(magnetLink, (link) => {
        const uri = formatMagnet(link);
        assert.deepEqual(parseMagnet(uri), link);
        assert.equal(formatMagnet(parseMagnet(uri)), uri);
      }),
      fuzzParams(1000),
    );
  });

  test('random text raises only MAGNET_* errors', () => {
    const param = fc.tuple(
      fc.constantFrom('xt', 'dn', 'tr', 'ws', 'xl', 'so', 'x.pe', 'xt.1', 'kt', ''),
      fc.oneof(
        fc.string({ maxLength: 80 }),
        fc.constantFrom(
          'urn:btih:',
          'urn:btmh:1220',
          'urn:btih:ZZZZ',
          '%',
          '%E0%A4',
          '0-',
          '5-1',
          '99999999',
        ),
        fc
          .tuple(
            fc.constantFrom('urn:btih:', 'urn:btmh:1220'),
            fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCXYZ27'), maxLength: 70 }),
          )
          .map(([a, b]) => a + b),
      ),
    );
    fc.assert(
      fc.property(fc.array(param, { maxLength: 8 }), fc.boolean(), (params, prefix) => {
        const uri = (prefix ? 'magnet:?' : '') + params.map(([k, v]) => `${k}=${v}`).join('&');
        onlyMagnetErrors(uri);
      }),
      fuzzParams(3000),
    );
    fc.assert(fc.property(fc.string({ maxLength: 200 }), onlyMagnetErrors), fuzzParams(1000));
  });
});
