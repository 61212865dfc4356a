// A small ZIP writer (PKWARE APPNOTE 6.3.10, sections 4.3.7, 4.3.12 and 4.3.16): deflate or store,
// UTF-8 names, no ZIP64 (a bundle of logs stays far below 4 GiB and 65,535 entries; past that it
// refuses). Entries are written as they are added, to a temporary file that close() renames into
// place, so a reader never sees half a bundle. node:zlib gives deflateRaw and crc32 (Node >= 20.15);
// it is imported when an archive is started, with node:util, so that the daemons, which import core
// too, load neither (core/node-crypto.ts says what node:util costs).
import { open, rename, rm, type FileHandle } from 'node:fs/promises';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const VERSION_NEEDED = 20; // 2.0: deflate
const MADE_BY_UNIX = (3 << 8) | VERSION_NEEDED;
const UTF8_NAMES = 0x0800; // general purpose bit 11
const STORE = 0;
const DEFLATE = 8;
const MAX_32 = 0xffffffff;
const MAX_ENTRIES = 0xffff;

export interface ZipFile {
  /** Adds one file; `name` uses forward slashes and stays inside the archive (no `/…`, no `..`). */
  add(name: string, data: Buffer | string, mtime?: Date): Promise<void>;
  /** Writes the central directory and moves the archive to its path. */
  close(): Promise<{ entries: number; bytes: number }>;
  /** Removes the unfinished archive. */
  abort(): Promise<void>;
}

interface Written {
  name: Buffer;
  method: number;
  time: number;
  date: number;
  crc: number;
  compressed: number;
  size: number;
  offset: number;
}

/** MS-DOS date and time, local time as zip tools expect; two-second resolution, 1980 at the earliest. */
export function dosDateTime(d: Date): { date: number; time: number } {
  if (d.getFullYear() < 1980) return { date: (1 << 5) | 1, time: 0 };
  return {
    date: ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
  };
}

function checkName(name: string): void {
  const parts = name.split('/');
  if (!name || name.startsWith('/') || name.includes('\\') || parts.some((p) => p === '..' || p === ''))
    throw new RangeError(`zip entry name ${JSON.stringify(name)} must be a relative path with / separators`);
}

function localHeader(e: Written): Buffer {
  const b = Buffer.alloc(30);
  b.writeUInt32LE(LOCAL_HEADER, 0);
  b.writeUInt16LE(VERSION_NEEDED, 4);
  b.writeUInt16LE(UTF8_NAMES, 6);
  b.writeUInt16LE(e.method, 8);
  b.writeUInt16LE(e.time, 10);
  b.writeUInt16LE(e.date, 12);
  b.writeUInt32LE(e.crc, 14);
  b.writeUInt32LE(e.compressed, 18);
  b.writeUInt32LE(e.size, 22);
  b.writeUInt16LE(e.name.length, 26);
  b.writeUInt16LE(0, 28); // extra field length
  return Buffer.concat([b, e.name]);
}

function centralHeader(e: Written): Buffer {
  const b = Buffer.alloc(46);
  b.writeUInt32LE(CENTRAL_HEADER, 0);
  b.writeUInt16LE(MADE_BY_UNIX, 4);
  b.writeUInt16LE(VERSION_NEEDED, 6);
  b.writeUInt16LE(UTF8_NAMES, 8);
  b.writeUInt16LE(e.method, 10);
  b.writeUInt16LE(e.time, 12);
  b.writeUInt16LE(e.date, 14);
  b.writeUInt32LE(e.crc, 16);
  b.writeUInt32LE(e.compressed, 20);
  b.writeUInt32LE(e.size, 24);
  b.writeUInt16LE(e.name.length, 28);
  // extra length, comment length, disk number start, internal attributes: all 0 (offsets 30 to 37)
  b.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: a regular file, rw-r--r--
  b.writeUInt32LE(e.offset, 42);
  return Buffer.concat([b, e.name]);
}

function endOfCentralDirectory(entries: number, size: number, offset: number): Buffer {
  const b = Buffer.alloc(22);
  b.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
  // this disk and the central directory's disk: 0 (offsets 4 to 7)
  b.writeUInt16LE(entries, 8);
  b.writeUInt16LE(entries, 10);
  b.writeUInt32LE(size, 12);
  b.writeUInt32LE(offset, 16);
  return b; // comment length 0
}

/** Starts an archive at `path` (written as `<path>.partial` until close). */
export async function createZipFile(path: string, mode = 0o600): Promise<ZipFile> {
  const [{ crc32, deflateRaw }, { promisify }] = await Promise.all([
    import('node:zlib'),
    import('node:util'),
  ]);
  const deflate = promisify(deflateRaw);
  const partial = `${path}.partial`;
  const fh: FileHandle = await open(partial, 'w', mode);
  const written: Written[] = [];
  let offset = 0;
  const write = async (b: Buffer) => {
    await fh.write(b);
    offset += b.length;
  };
  return {
    async add(name, data, mtime = new Date()) {
      checkName(name);
      if (written.length >= MAX_ENTRIES) throw new RangeError('zip: more than 65,535 entries');
      const raw = typeof data === 'string' ? Buffer.from(data) : data;
      const packed = raw.length > 0 ? await deflate(raw) : raw;
      const method = packed.length < raw.length ? DEFLATE : STORE;
      const body = method === DEFLATE ? packed : raw;
      if (offset + body.length + 30 + name.length * 4 > MAX_32)
        throw new RangeError('zip: larger than 4 GiB');
      const entry: Written = {
        name: Buffer.from(name),
        method,
        ...dosDateTime(mtime),
        crc: crc32(raw),
        compressed: body.length,
        size: raw.length,
        offset,
      };
      await write(localHeader(entry));
      await write(body);
      written.push(entry);
    },
    async close() {
      const start = offset;
      for (const e of written) await write(centralHeader(e));
      if (offset > MAX_32) throw new RangeError('zip: larger than 4 GiB');
      await write(endOfCentralDirectory(written.length, offset - start, start));
      await fh.sync();
      await fh.close();
      await rename(partial, path);
      return { entries: written.length, bytes: offset };
    },
    async abort() {
      await fh.close().catch(() => {});
      await rm(partial, { force: true });
    },
  };
}
