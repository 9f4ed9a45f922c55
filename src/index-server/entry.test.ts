import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fuzzParams } from '../../fuzz/fuzz-config.js';
import {
  assertCanonicalEntry,
  canonicalEntryBytes,
  canonicalizeEntry,
  type EntryBody,
  parseEntryBody,
} from './entry.js';
import { IndexError } from './errors.js';
import { assertEntrySignature, generateIdentity, signBytes, signEntry } from './identity.js';
import { sampleEntry } from './store.conformance.js';

const alice = generateIdentity();

function body(over: Partial<EntryBody> = {}): Omit<EntryBody, 'publisher'> {
  const { publisher: _p, ...rest } = sampleEntry('canon', over);
  return rest;
}

/** Sign exactly what is given, bypassing the canonicalisation of `signEntry` (a hostile client). */
function signRaw(e: Omit<EntryBody, 'publisher'>): { entry: EntryBody; signature: string } {
  const entry = { ...e, publisher: alice.publicKeyHex };
  return { entry, signature: signBytes(alice, canonicalEntryBytes(entry)) };
}

function throwsCode(fn: () => unknown, code: string, mentions: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof IndexError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, mentions);
    return true;
  });
}

// One or more of each refused class: C0, DEL, C1 (CSI), bidi embeddings/overrides/isolates,
// zero-width and invisible format characters, separators, noncharacters, lone surrogates.
const REFUSED = [
  '\u0000',
  '\u001b[2J',
  '\u0007',
  '\u007f',
  '\u0085',
  '\u009b31m',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u200b',
  '\u2060',
  '\ufeff',
  '\u2028',
  '\u2029',
  '\u{e0041}',
  '\ufffe',
  '\u{10ffff}',
  '\u3164',
  '\ud800',
  '\udfff',
  'a\ud83dz',
];

test('every text field refuses each class of control, bidi, invisible and ill-formed character', () => {
  const fields: [string, (bad: string) => Partial<EntryBody>][] = [
    ['title', (b) => ({ title: `Report${b}txt.exe` })],
    ['name', (b) => ({ name: `name${b}end` })],
    ['description', (b) => ({ description: `line one\n${b} end` })],
    ['tags[1]', (b) => ({ tags: ['ok', `t${b}t`] })],
    ['files[0].path', (b) => ({ files: [{ path: ['dir', `f${b}.txt`], length: 1 }] })],
  ];
  for (const bad of REFUSED)
    for (const [field, make] of fields) {
      const e = { ...body(make(bad)), publisher: alice.publicKeyHex };
      const label = `${field} with U+${bad.codePointAt(bad.length > 1 && bad[0] === 'a' ? 1 : 0)?.toString(16)}`;
      throwsCode(() => parseEntryBody(e), 'ENTRY_INVALID', new RegExp(field.replace(/[[\].]/g, '\\$&')));
      // Canonicalising on the client side never hides a refused character.
      assert.throws(() => parseEntryBody(canonicalizeEntry(e)), { code: 'ENTRY_INVALID' }, label);
    }
});

test('trackers must be printable ASCII URLs', () => {
  for (const t of [
    'http://tracker\u202e.example/announce',
    'http://trаcker.example/',
    'udp://x\u0000:1',
    'http://a b/',
  ])
    throwsCode(
      () => parseEntryBody({ ...body({ trackers: [t] }), publisher: alice.publicKeyHex }),
      'ENTRY_INVALID',
      /tracker/,
    );
});

test('text that real languages need is accepted: ZWJ emoji, ZWNJ, RLM, soft hyphen, CJK', () => {
  for (const title of [
    '👩‍💻 Dev Notes',
    'می‌خواهم',
    'שלום\u200f עולם',
    'co\u00adoperate',
    '日本語のタイトル',
    'Café',
  ])
    assertEntrySignature(signEntry(alice, body({ title })));
  assertEntrySignature(signEntry(alice, body({ description: 'line one\n\tindented\nline three' })));
  // The client turns CRLF into LF; a raw CR is a control character the index refuses.
  assert.equal(signEntry(alice, body({ description: 'a\r\nb\rc' })).entry.description, 'a\nb\nc');
  throwsCode(
    () => parseEntryBody({ ...body({ description: 'a\r\nb' }), publisher: alice.publicKeyHex }),
    'ENTRY_INVALID',
    /description/,
  );
});

test('tags are canonicalised before signing, so a capitalised tag verifies (publish --tag Linux)', () => {
  const s = signEntry(alice, body({ tags: ['Linux', ' LINUX ', 'Ubuntu \t Server', 'ÉTÉ'] }));
  assert.deepEqual(s.entry.tags, ['linux', 'ubuntu server', 'été']);
  assertEntrySignature(s);
  assertEntrySignature({
    entry: parseEntryBody(JSON.parse(JSON.stringify(s.entry))),
    signature: s.signature,
  });
});

test('a correctly signed entry that is not canonical is refused, naming the field, never normalised', () => {
  const cases: [Partial<EntryBody>, RegExp][] = [
    [{ tags: ['Linux'] }, /tags\[0\]/],
    [{ tags: ['linux', 'linux'] }, /tags\[1\].*duplicate/],
    [{ tags: [' linux'] }, /tags\[0\]/],
    [{ title: '  padded' }, /title/],
    [{ title: 'two  spaces' }, /title/],
    [{ title: 'Cafe\u0301' }, /title/], // NFD
    [{ description: 'trailing\n' }, /description/],
    [{ name: 'Cafe\u0301' }, /name/],
    [{ files: [{ path: ['Cafe\u0301.txt'], length: 1 }] }, /files\[0\]\.path/],
  ];
  for (const [over, field] of cases) {
    const raw = signRaw(body(over));
    // The signature itself is fine: it covers exactly these bytes...
    const parsed = parseEntryBody(JSON.parse(JSON.stringify(raw.entry)));
    assert.deepEqual(parsed, raw.entry, 'parsing changes nothing');
    // ...but the index refuses the non-canonical form rather than storing something else.
    throwsCode(
      () => assertEntrySignature({ entry: parsed, signature: raw.signature }),
      'ENTRY_NOT_CANONICAL',
      field,
    );
    // The canonical form of the same entry is accepted.
    assertEntrySignature(signEntry(alice, body(over)));
  }
});

test('a tag that was lower-cased after signing no longer verifies (no silent normalising)', () => {
  const raw = signRaw(body({ tags: ['Linux'] }));
  throwsCode(
    () => assertEntrySignature({ ...raw, entry: { ...raw.entry, tags: ['linux'] } }),
    'BAD_SIGNATURE',
    /signature/,
  );
});

test('property: canonicalising is idempotent and its result is accepted or refused as invalid', () => {
  const textArb = fc.string({ unit: 'binary', maxLength: 40 });
  fc.assert(
    fc.property(
      textArb,
      textArb,
      fc.array(textArb, { maxLength: 4 }),
      textArb,
      (title, description, tags, name) => {
        const e = { ...body({ title, description, tags, name: `n${name}` }), publisher: alice.publicKeyHex };
        const c = canonicalizeEntry(e);
        assert.deepEqual(canonicalizeEntry(c), c);
        let parsed: EntryBody;
        try {
          parsed = parseEntryBody(c);
        } catch (err) {
          assert.ok(err instanceof IndexError && err.code === 'ENTRY_INVALID', String(err));
          return;
        }
        assertCanonicalEntry(parsed);
        // What is signed (UTF-8) decodes back to exactly what is stored.
        for (const s of [parsed.title, parsed.description, parsed.name, ...parsed.tags])
          assert.equal(new TextDecoder().decode(new TextEncoder().encode(s)), s);
      },
    ),
    fuzzParams(200),
  );
});
