import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentRisk, nameRisks, sniffType } from './file-risk.js';

describe('file risks', () => {
  it('flags a misleading double extension and bidi controls, not honest names', () => {
    assert.deepEqual(
      nameRisks(['Film', 'film.mp4.exe']).map((r) => r.code),
      ['DOUBLE_EXTENSION'],
    );
    const rlo = nameRisks(['photo\u202egpj.exe']);
    assert.ok(rlo.some((r) => r.code === 'BIDI_CONTROL'));
    assert.match(rlo[0]!.path, /\\u\{202e\}/, 'the control is shown, not applied');
    assert.deepEqual(nameRisks(['setup.exe']), [], 'a program named as one is honest');
    assert.deepEqual(nameRisks(['archive.tar.gz']), []);
  });

  it('flags content that does not match the extension', () => {
    const pe = new Uint8Array([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0]);
    assert.equal(sniffType(pe), 'windows-executable');
    assert.equal(contentRisk(['film.mp4'], pe)?.code, 'CONTENT_MISMATCH');
    assert.match(contentRisk(['film.mp4'], pe)!.message, /program/);
    const mp4 = new Uint8Array([0, 0, 0, 0x20, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]);
    assert.equal(contentRisk(['film.mp4'], mp4), null);
    assert.equal(contentRisk(['notes.txt'], new TextEncoder().encode('hello')), null);
    assert.equal(contentRisk(['notes.txt'], pe)?.code, 'CONTENT_MISMATCH');
    assert.equal(contentRisk(['data.bin'], pe), null, 'unknown extensions are not judged');
  });
});
