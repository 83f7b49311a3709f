import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32 } from '../../../src/spool/disk/crc32.ts';

describe('crc32', () => {
  it('is zlib.crc32 of the range, for every length from 0 to 1100 at every offset modulo 8', () => {
    const buf = randomBytes(1200);
    for (let length = 0; length <= 1100; length++) {
      for (let offset = 0; offset < 8; offset++) {
        assert.equal(
          crc32(buf, offset, offset + length),
          zlibCrc32(buf.subarray(offset, offset + length)),
          `length ${length}, offset ${offset}`,
        );
      }
    }
  });

  it('reads only the range (the bytes around it do not count), also for all-0xFF and all-zero data', () => {
    for (const fill of [0x00, 0xff]) {
      const buf = Buffer.alloc(300, fill);
      buf[0] = 1;
      buf[299] = 2;
      assert.equal(crc32(buf, 1, 299), zlibCrc32(Buffer.alloc(298, fill)));
    }
  });
});
