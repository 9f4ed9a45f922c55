import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MAX_FEED_ITEMS, parseFeed } from '../src/daemon/rss/parse.js';
import { PeerdropError } from '../src/util/errors.js';
import { fuzzParams } from './fuzz-config.js';

const corpusDir = join(import.meta.dirname, 'corpus', 'rss');
const corpus = readdirSync(corpusDir).map((f) => readFileSync(join(corpusDir, f), 'utf8'));

/** Only the parser's documented errors escape, and what it returns keeps its bounds. */
function check(input: string): void {
  try {
    const feed = parseFeed(input);
    assert.ok(feed.items.length <= MAX_FEED_ITEMS);
    for (const item of feed.items) {
      assert.ok(item.title.length > 0 && item.title.length <= 8192);
      assert.ok(item.torrentUrl !== null || item.magnet !== null, 'every item has something to download');
      assert.ok(!item.title.includes('\ue000'), 'no CDATA placeholder leaks');
    }
  } catch (err) {
    if (!(err instanceof PeerdropError) || !/^RSS_/.test(err.code)) throw err;
  }
}

const tokens = fc.constantFrom(
  '<rss>',
  '<channel>',
  '<item>',
  '</item>',
  '<entry>',
  '</entry>',
  '<feed>',
  '<title>',
  '</title>',
  '<![CDATA[',
  ']]>',
  '<!--',
  '-->',
  '&amp;',
  '&#x110000;',
  '&#0;',
  '&#xD800;',
  '<enclosure url="magnet:?x"/>',
  '<link href="http://a/b.torrent"/>',
  '<link>',
  '</link>',
  '<guid>',
  '\ue000',
  '\ue0001\ue000',
  '"',
  "'",
  '<',
  '>',
  'x',
);

describe('RSS/Atom parser fuzz', () => {
  test('mutated corpus feeds: only RSS_ errors, bounded output', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...corpus),
        fc.nat(),
        fc.nat(),
        fc.string({ maxLength: 20 }),
        (doc, at, len, insert) => {
          const i = at % (doc.length + 1);
          check(doc.slice(0, i) + insert + doc.slice(Math.min(doc.length, i + (len % 40))));
        },
      ),
      fuzzParams(300),
    );
  });

  test('token soup: only RSS_ errors, bounded output', () => {
    fc.assert(
      fc.property(fc.array(tokens, { maxLength: 200 }), (parts) => check(`<rss>${parts.join('')}`)),
      fuzzParams(300),
    );
  });

  test('huge item counts are capped', () => {
    const many = `<rss><channel>${'<item><title>t</title><link>magnet:?xt=a</link></item>'.repeat(MAX_FEED_ITEMS + 50)}</channel></rss>`;
    assert.equal(parseFeed(many).items.length, MAX_FEED_ITEMS);
    assert.throws(() => parseFeed(`<rss>${'x'.repeat(5 * 1024 * 1024)}`), { code: 'RSS_TOO_LARGE' });
  });
});
