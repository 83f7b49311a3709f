import { crc32 as zlibCrc32 } from 'node:zlib';

/** Below this many bytes the table loop beats the native call (measured in Node 24: 97 vs 230 ns at 100 bytes, 412 vs 395 at 400). */
const NATIVE_FROM_BYTES = 256;

/** Slicing-by-8 tables of the CRC-32 zlib computes (reflected polynomial 0xEDB88320): table k at k * 256. */
const T = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = T[n]!;
  for (let k = 1; k < 8; k++) {
    c = T[c & 0xff]! ^ (c >>> 8);
    T[k * 256 + n] = c;
  }
}

/**
 * `zlib.crc32` of `buf[start, end)`, the same number. A spool record is about a hundred bytes, where the native
 * call's fixed cost (and the `subarray` view it needs, one more object for the GC) is most of the work: records
 * that short are summed here, longer ones natively.
 */
export function crc32(buf: Uint8Array, start: number, end: number): number {
  if (end - start >= NATIVE_FROM_BYTES) return zlibCrc32(buf.subarray(start, end));
  let c = -1;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    c =
      T[1792 + (a & 0xff)]! ^
      T[1536 + ((a >>> 8) & 0xff)]! ^
      T[1280 + ((a >>> 16) & 0xff)]! ^
      T[1024 + (a >>> 24)]! ^
      T[768 + buf[i + 4]!]! ^
      T[512 + buf[i + 5]!]! ^
      T[256 + buf[i + 6]!]! ^
      T[buf[i + 7]!]!;
  }
  for (; i < end; i++) c = T[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
