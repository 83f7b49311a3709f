/** The initramfs writer: newc headers, 4-byte padding, the trailer (read back with a parser written here). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpioArchive } from '../../../scripts/powercut/cpio.ts';

function parse(buf: Buffer): { name: string; mode: number; data: string }[] {
  const out: { name: string; mode: number; data: string }[] = [];
  let pos = 0;
  for (;;) {
    assert.equal(buf.toString('ascii', pos, pos + 6), '070701');
    const field = (i: number) => Number.parseInt(buf.toString('ascii', pos + 6 + i * 8, pos + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const name = buf.toString('utf8', pos + 110, pos + 110 + nameSize - 1);
    pos += 110 + nameSize;
    pos += (4 - (pos % 4)) % 4;
    const data = buf.toString('utf8', pos, pos + size);
    pos += size;
    pos += (4 - (pos % 4)) % 4;
    if (name === 'TRAILER!!!') break;
    out.push({ name, mode, data });
  }
  assert.equal(pos, buf.length);
  return out;
}

test('writes dirs, files and symlinks with their modes, padded, ending in the trailer', () => {
  const archive = cpioArchive([
    { name: 'bin', kind: 'dir' },
    { name: 'bin/x', kind: 'file', data: 'hello' },
    { name: 'bin/sh', kind: 'symlink', data: 'x' },
    { name: 'init', kind: 'file', mode: 0o700, data: Buffer.from('#!/bin/sh\n') },
  ]);
  assert.equal(archive.length % 4, 0);
  assert.deepEqual(parse(archive), [
    { name: 'bin', mode: 0o040755, data: '' },
    { name: 'bin/x', mode: 0o100755, data: 'hello' },
    { name: 'bin/sh', mode: 0o120777, data: 'x' },
    { name: 'init', mode: 0o100700, data: '#!/bin/sh\n' },
  ]);
});
