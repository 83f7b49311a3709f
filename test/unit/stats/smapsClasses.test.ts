import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { classifySmaps } from '../../../src/stats/smapsClasses.ts';
import { MemoryTrace, type MemorySample } from '../../../src/stats/MemoryTrace.ts';

const map = (range: string, perms: string, name: string, rss: number, anon: number): string =>
  `${range} ${perms} 00000000 00:00 0 ${name}\nSize: 1 kB\nRss: ${rss} kB\nPss: ${rss} kB\nAnonymous: ${anon} kB\nVmFlags: rd wr\n`;

describe('classifySmaps', () => {
  it('tells the node binary, brk, glibc arenas, thread stacks, JIT code and the rest apart', () => {
    const text = [
      map('00400000-00600000', 'r-xp', '/usr/bin/node', 2000, 0),
      map('00600000-00610000', 'rw-p', '/usr/bin/node', 64, 60),
      map('01000000-02000000', 'rw-p', '[heap]', 5000, 5000),
      // An arena: the committed head at a 64 MiB boundary, the no-access rest of its 64 MiB after it.
      map('7f0004000000-7f0004400000', 'rw-p', '', 3000, 3000),
      map('7f0004400000-7f0008000000', '---p', '', 0, 0),
      // A thread stack: a 4 KiB guard page, then 8 MiB read-write.
      map('7f0010000000-7f0010001000', '---p', '', 0, 0),
      map('7f0010001000-7f0010801000', 'rw-p', '', 40, 40),
      map('7f0020000000-7f0020040000', 'rwxp', '', 256, 256),
      map('7f0030000000-7f0030100000', 'rw-p', '', 1024, 1000),
      map('7f0031000000-7f0031040000', 'rw-p', '', 256, 256),
      map('7ffc00000000-7ffc00021000', 'rw-p', '[stack]', 132, 132),
      map('7ffc00100000-7ffc00102000', 'r-xp', '[vdso]', 8, 0),
    ].join('');
    const c = classifySmaps(text, 1);
    assert.deepEqual(
      {
        file: c.file,
        fileAnon: c.fileAnon,
        brk: c.brk,
        arenas: c.arenas,
        arenaList: c.arenaList,
        stacks: c.stacks,
        jit: c.jit,
        anon: c.anon,
      },
      { file: 2064, fileAnon: 60, brk: 5000, arenas: 3000, arenaList: [3000], stacks: 172, jit: 256, anon: 1256 },
    );
    assert.deepEqual(c.largestAnon, [{ start: '7f0030000000', sizeKb: 1024, anonKb: 1000 }]);
  });

  it('reads this process', () => {
    const c = classifySmaps(fs.readFileSync('/proc/self/smaps', 'utf8'));
    assert.ok(c.file > 0 && c.brk + c.arenas + c.anon > 0);
  });
});

describe('MemoryTrace', () => {
  it('appends one JSON line per sample and stops', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memtrace-'));
    const file = path.join(dir, 'trace.jsonl');
    const trace = MemoryTrace.fromEnv(`${file},10`);
    trace.start();
    await new Promise((r) => setTimeout(r, 60));
    trace.stop();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    assert.ok(lines.length >= 2);
    const s = JSON.parse(lines[0]!) as MemorySample;
    assert.equal(s.pid, process.pid);
    assert.ok(s.rssKb > 0 && s.spaces.old_space !== undefined && (s.threads.MainThread ?? 0) >= 0);
    fs.rmSync(dir, { recursive: true });
  });

  it('refuses a malformed setting', () => {
    assert.throws(() => MemoryTrace.fromEnv(',200'), /EDGEBRIDGE_MEMORY_TRACE/);
    assert.throws(() => MemoryTrace.fromEnv('/tmp/x,1'), /MS ≥ 10/);
  });
});
