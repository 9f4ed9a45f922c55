import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fuzzParams } from '../../fuzz/fuzz-config.js';
import { jsonForTerminal, sanitizeForTerminal } from './terminal-text.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: the bytes a terminal acts on
const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

test('escape sequences are removed whole, payload included', () => {
  const cases: [string, string][] = [
    ['red \u001b[31mALERT\u001b[0m done', 'red ALERT done'],
    ['clear\u001b[2J\u001b[H screen', 'clear screen'],
    ['cursor \u001b[10;20Hjump', 'cursor jump'],
    ['title \u001b]0;pwned\u0007 after', 'title after'],
    ['clipboard \u001b]52;c;cm0gLXJmIH4=\u001b\\ after', 'clipboard after'],
    ['link \u001b]8;;http://evil\u001b\\text\u001b]8;;\u001b\\ end', 'link text end'],
    ['dcs \u001bPq#0;2;0;0;0\u001b\\ end', 'dcs end'],
    ['apc \u001b_payload\u001b\\ end', 'apc end'],
    ['8-bit csi \u009b31mred', '8-bit csi red'],
    ['8-bit osc \u009d0;t\u009c end', '8-bit osc end'],
    ['keypad \u001b= \u001b7save', 'keypad save'],
    ['unterminated \u001b]0;swallow everything', 'unterminated'],
    ['dangling esc\u001b', 'dangling esc'],
  ];
  for (const [input, want] of cases) assert.equal(sanitizeForTerminal(input), want, JSON.stringify(input));
});

test('controls, bidi overrides and invisible characters are removed; line breaks become spaces', () => {
  assert.equal(sanitizeForTerminal('a\u0000b\u0007c\u0008d\u007fe\u0085f'), 'abcdef');
  assert.equal(sanitizeForTerminal('report\u202eexe.txt'), 'reportexe.txt');
  assert.equal(sanitizeForTerminal('x\u2066y\u2069z\u202a\u202c'), 'xyz');
  assert.equal(sanitizeForTerminal('zero\u200bwidth\ufeff\u2060'), 'zerowidth');
  assert.equal(sanitizeForTerminal('over\rwrite'), 'over write');
  assert.equal(sanitizeForTerminal('two\nlines\tand tab'), 'two lines and tab');
  assert.equal(sanitizeForTerminal('lone \ud800 surrogate \udc00'), 'lone surrogate');
  assert.equal(sanitizeForTerminal('multi\r\nline\n\tok', { multiline: true }), 'multi\nline\n\tok');
  assert.equal(sanitizeForTerminal('x'.repeat(50), { maxChars: 10 }), `${'x'.repeat(9)}…`);
});

test('ordinary text of any script is kept as it is', () => {
  for (const s of [
    'Café au lait',
    '日本語のタイトル',
    'שלום עולם',
    'می‌خواهم',
    '👩‍💻 notes',
    'a-b_c.d (1) [2]',
  ])
    assert.equal(sanitizeForTerminal(s), s);
});

test('property: the result never holds a terminal control, and sanitising twice changes nothing', () => {
  const hostile = fc
    .array(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 8 }),
        fc.constantFrom(
          '\u001b',
          '\u001b[',
          '\u001b]',
          '\u009b',
          '\u009d',
          '\u0007',
          '\u001b\\',
          '\r',
          '\u202e',
        ),
      ),
      { maxLength: 12 },
    )
    .map((parts) => parts.join(''));
  fc.assert(
    fc.property(hostile, fc.boolean(), (s, multiline) => {
      const out = sanitizeForTerminal(s, { multiline });
      assert.ok(!TERMINAL_CONTROL.test(out), JSON.stringify(out));
      assert.equal(sanitizeForTerminal(out, { multiline }), out);
      if (!multiline) assert.ok(!out.includes('\n'));
    }),
    fuzzParams(1000),
  );
});

test('jsonForTerminal escapes what a terminal acts on but keeps the JSON value exact', () => {
  const value = { title: 'a\u001b[31mb\u009bc\u202ed\u2028e\u007f', n: 1 };
  const text = jsonForTerminal(value);
  assert.ok(!TERMINAL_CONTROL.test(text), text);
  assert.ok(!text.includes('\u2028'));
  assert.deepEqual(JSON.parse(text), value);
});
