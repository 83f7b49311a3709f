/**
 * A minimal writer of the cpio "newc" format the kernel unpacks as its initramfs (there is no cpio binary on a
 * fresh Debian machine; the format is 110 bytes of hex header, the name, the data, each padded to 4 bytes).
 */

export interface CpioEntry {
  /** Path inside the archive, without a leading slash, e.g. `bin/busybox`. */
  name: string;
  kind: 'dir' | 'file' | 'symlink';
  /** Permission bits; default 0o755 for dirs and files, 0o777 for symlinks. */
  mode?: number;
  /** File contents, or the symlink's target. */
  data?: Buffer | string;
}

const TYPE_BITS = { dir: 0o040000, file: 0o100000, symlink: 0o120000 } as const;

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
const pad4 = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);

function header(ino: number, mode: number, nlink: number, size: number, nameSize: number): string {
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  return `070701${[ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, nameSize, 0].map(hex8).join('')}`;
}

/** The archive of `entries` (parents must come before their children), with the trailer. */
export function cpioArchive(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const add = (name: string, mode: number, nlink: number, data: Buffer) => {
    const nameBytes = Buffer.from(`${name}\0`);
    const head = Buffer.from(header(ino++, mode, nlink, data.length, nameBytes.length), 'ascii');
    parts.push(head, nameBytes, pad4(head.length + nameBytes.length), data, pad4(data.length));
  };
  for (const e of entries) {
    const perm = e.mode ?? (e.kind === 'symlink' ? 0o777 : 0o755);
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data);
    add(e.name, TYPE_BITS[e.kind] | perm, e.kind === 'dir' ? 2 : 1, e.kind === 'dir' ? Buffer.alloc(0) : data);
  }
  add('TRAILER!!!', 0, 1, Buffer.alloc(0));
  return Buffer.concat(parts);
}
