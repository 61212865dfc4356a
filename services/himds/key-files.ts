// How challenge secrets get onto disk, cheaply: each challenge is a new name <uuid>.key (a path is
// never handed out twice), but not necessarily a new file. A used challenge's file is renamed to
// <uuid>.used, inert (its secret is spent), and the next challenge renames it to its own name and
// overwrites the 64 bytes in place. On ext4 here that is two renames and a write (~45 us) instead of
// creating a file and writing to it (~75 us and far worse while the disk is busy: allocating a
// block for new data is the dearest step of the whole token flow; bench/himds.ts). Spares idle past
// the challenge time-to-live are removed, so an idle HIMDS leaves nothing behind.
//
// The calls are synchronous on purpose: a handful of syscalls on a 64-byte file in a local folder,
// each cheaper than a round trip through libuv's thread pool, and a challenge's file is complete
// in the same step of the event loop that registers its secret.
import { randomUUID } from 'node:crypto';
import { closeSync, fchmodSync, fchownSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../core/index.ts';
import { KEY_FILE_MODE, prepareTokensDir } from './tokens-dir.ts';

const MAX_SPARES = 64;

export interface KeyFiles {
  /** Makes the folder right (mode, group); again whenever it has gone missing. */
  prepare(): Promise<void>;
  /** Puts `secret` into a new <dir>/<uuid>.key, 0640 and group himds; resolves with its path. */
  write(secret: Buffer): Promise<string>;
  /** The challenge at `path` is over: its name disappears, the file is kept as a spare or removed. */
  retire(path: string): void;
  /** Removes the file at `path` now (an expired challenge). */
  remove(path: string): void;
  /** Removes spares idle for `maxIdleMs` or more. */
  prune(maxIdleMs: number): void;
  /** Removes every spare. */
  close(): void;
}

export function createKeyFiles(opts: {
  dir: string;
  gid: number | undefined;
  log: Logger;
  now: () => Date;
}): KeyFiles {
  const { dir, log, now } = opts;
  let gid = opts.gid;
  const spares: { path: string; since: number }[] = [];

  const remove = (path: string) => {
    try {
      unlinkSync(path);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'ENOENT') log.warn({ path, err: e.message }, 'challenge file not removed');
    }
  };

  const create = (path: string, secret: Buffer) => {
    // 'wx': never follow or reuse something already at that name.
    const fd = openSync(path, 'wx', KEY_FILE_MODE);
    let written = false;
    try {
      writeSync(fd, secret);
      fchmodSync(fd, KEY_FILE_MODE); // the umask may have taken the group's read bit
      if (gid !== undefined) fchownSync(fd, -1, gid);
      written = true;
    } finally {
      closeSync(fd);
      if (!written) remove(path);
    }
  };

  /** Renames a spare to `path` and overwrites its spent secret; false when there is none that works. */
  const recycle = (path: string, secret: Buffer): boolean => {
    const spare = spares.pop();
    if (!spare) return false;
    try {
      renameSync(spare.path, path);
    } catch {
      return recycle(path, secret); // gone (the folder was cleaned): try the next
    }
    try {
      // Every secret has the same length, so the new one covers the spent one exactly.
      const fd = openSync(path, 'r+');
      try {
        writeSync(fd, secret, 0, secret.length, 0);
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (err) {
      remove(path);
      log.warn({ path, err: (err as Error).message }, 'spare challenge file not reusable');
      return false;
    }
  };

  const place = (path: string, secret: Buffer) => {
    if (!recycle(path, secret)) create(path, secret);
  };

  return {
    async prepare() {
      gid = await prepareTokensDir(dir, gid, log);
    },

    async write(secret) {
      const path = join(dir, `${randomUUID()}.key`);
      try {
        place(path, secret);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        // Someone removed the folder under us: make it again, once.
        spares.length = 0;
        await this.prepare();
        create(path, secret);
      }
      return path;
    },

    retire(path) {
      if (spares.length >= MAX_SPARES) return remove(path);
      const spare = join(dir, `${randomUUID()}.used`);
      try {
        renameSync(path, spare);
        spares.push({ path: spare, since: now().getTime() });
      } catch {
        remove(path);
      }
    },

    remove,

    prune(maxIdleMs) {
      const at = now().getTime();
      for (let i = spares.length - 1; i >= 0; i--) {
        if (at - spares[i]!.since < maxIdleMs) continue;
        remove(spares[i]!.path);
        spares.splice(i, 1);
      }
    },

    close() {
      for (const s of spares.splice(0)) remove(s.path);
    },
  };
}
