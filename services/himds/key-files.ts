// How challenge secrets get onto disk, cheaply. A challenge is a file <uuid>.key holding its secret;
// once the challenge is answered, the secret in it is spent (challenge.ts forgets it), so the file
// is kept open as a spare, and a later challenge overwrites the 64 bytes in place and hands out
// the same path. That is one pwrite on an open file per challenge and nothing per answer, where
// creating and removing a file per challenge costs an open, a write, a chmod, a close and an
// unlink (ext4 here: a pwrite ~2-4 us; a rename or an unlink 20-50 us; a create 75 us and far
// more while the disk is busy; bench/himds.ts, where these were the largest cost of a token).
//
//   issue:  spare <b>.key (spent secret, fd open) --pwrite new secret--> handed out as <b>.key
//           no spare: create <uuid>.key (0640, group himds), kept open
//   answer: nothing on disk; <b>.key is a spare (its secret spent: worthless to whoever reads it)
//   expiry: <b>.key is unlinked, never reused: a late reader finds nothing, not a newer secret
//
// A path is handed out again only after its challenge was answered, by the one client that read
// it. Spares are removed once idle for half the challenge time-to-live, so a HIMDS at rest leaves
// nothing behind and another HIMDS's stale sweep never meets one. There are never more files than
// the most challenges open at once (a file is only created when no spare is left), so the folder
// stays within the limit on open challenges (challenge.ts). The calls on the request path are synchronous on purpose: one syscall on a 64-byte
// file costs less than a round trip through libuv's thread pool, and a challenge's file is
// complete in the same step of the event loop that registers its secret.
import { closeSync, fchmodSync, fchownSync, fstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { unlink as unlinkLater } from 'node:fs/promises';
import { nodeCrypto, type Logger } from '../../core/index.ts';
import { KEY_FILE_MODE, prepareTokensDir } from './tokens-dir.ts';

/** Idle spares being removed at once, in the thread pool. */
const MAX_REMOVING = 2;
/** Files kept open at once, the busiest; others are opened again when reused. */
const MAX_OPEN = 256;

/** One file in the tokens folder. */
export interface KeyFile {
  readonly path: string;
  fd: number | undefined;
  /** When its secret was last written (ms): the file's age as a stale sweep sees it. */
  writtenAt: number;
}

export interface KeyFiles {
  /** Makes the folder right (mode, group); again whenever it has gone missing. */
  prepare(): Promise<void>;
  /** Puts `secret` into a file <uuid>.key, 0640 and group himds: a spare, else a new one. */
  write(secret: Buffer): Promise<KeyFile>;
  /** The challenge of `file` was answered: the file becomes a spare. */
  retire(file: KeyFile): void;
  /** Removes `file` now (an expired challenge). */
  remove(file: KeyFile): void;
  /** Removes spares idle for `maxIdleMs` or more, and those someone else removed. */
  prune(maxIdleMs: number): void;
  /** True for a path this HIMDS is using (an open challenge or a spare); a stale sweep skips it. */
  readonly owns: (path: string) => boolean;
  /** Removes every spare. */
  close(): void;
}

export function createKeyFiles(opts: {
  dir: string;
  gid: number | undefined;
  log: Logger;
  /** Milliseconds since the epoch (clock.ts). */
  now: () => number;
}): KeyFiles {
  const { dir, log, now } = opts;
  let gid = opts.gid;
  /** Answered challenges' files, the most recently answered last (reused first: likely still open). */
  const spares: KeyFile[] = [];
  /** Paths of open challenges and spares. */
  const live = new Set<string>();
  let open = 0;

  const closeFd = (file: KeyFile) => {
    if (file.fd === undefined) return;
    try {
      closeSync(file.fd);
    } catch {
      // already closed: nothing to release
    }
    file.fd = undefined;
    open--;
  };

  const unlink = (path: string) => {
    try {
      unlinkSync(path);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'ENOENT') log.warn({ path, err: e.message }, 'challenge file not removed');
    }
  };

  const remove = (file: KeyFile) => {
    live.delete(file.path);
    closeFd(file);
    unlink(file.path);
  };

  // Idle spares are removed off the request path: in the thread pool, a few at a time, so that the
  // thousands a burst of challenges can leave never stall the event loop at once.
  const doomed: string[] = [];
  let removing = 0;
  const pump = () => {
    while (removing < MAX_REMOVING && doomed.length > 0) {
      const path = doomed.pop()!;
      removing++;
      unlinkLater(path)
        .catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') log.warn({ path, err: err.message }, 'challenge file not removed');
        })
        .finally(() => {
          removing--;
          pump();
        });
    }
  };
  const removeLater = (file: KeyFile) => {
    live.delete(file.path);
    closeFd(file);
    doomed.push(file.path);
    pump();
  };

  const create = (secret: Buffer): KeyFile => {
    // The folder is absolute and normalized (challenge.ts): a concatenation, not path.join.
    const path = `${dir}/${nodeCrypto().randomUUID()}.key`;
    // 'wx': never follow or reuse something already at that name.
    const fd = openSync(path, 'wx', KEY_FILE_MODE);
    try {
      writeSync(fd, secret);
      fchmodSync(fd, KEY_FILE_MODE); // the umask may have taken the group's read bit
      if (gid !== undefined) fchownSync(fd, -1, gid);
    } catch (err) {
      closeSync(fd);
      unlink(path);
      throw err;
    }
    const file: KeyFile = { path, fd, writtenAt: now() };
    if (open < MAX_OPEN) open++;
    else {
      closeSync(fd);
      file.fd = undefined;
    }
    live.add(path);
    return file;
  };

  /** A spare with `secret` written over its spent one; undefined when there is none that works. */
  const reuse = (secret: Buffer): KeyFile | undefined => {
    for (let file = spares.pop(); file; file = spares.pop()) {
      try {
        if (file.fd === undefined) {
          file.fd = openSync(file.path, 'r+');
          open++;
        }
        // Every secret has the same length, so the new one covers the spent one exactly.
        writeSync(file.fd, secret, 0, secret.length, 0);
        file.writtenAt = now();
        if (open > MAX_OPEN) closeFd(file);
        return file;
      } catch (err) {
        remove(file);
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          log.warn({ path: file.path, err: (err as Error).message }, 'spare challenge file not reusable');
      }
    }
    return undefined;
  };

  /** True when someone else removed the file: reusing it would hand out a path that does not exist. */
  const gone = (file: KeyFile): boolean => {
    if (file.fd === undefined) return false; // opened again on reuse, which then finds out
    try {
      return fstatSync(file.fd).nlink === 0;
    } catch {
      return true;
    }
  };

  return {
    async prepare() {
      gid = await prepareTokensDir(dir, gid, log);
    },

    async write(secret) {
      const spare = reuse(secret);
      if (spare) return spare;
      try {
        return create(secret);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        // Someone removed the folder under us: make it again, once.
        for (const s of spares.splice(0)) remove(s);
        await this.prepare();
        return create(secret);
      }
    },

    retire(file) {
      spares.push(file);
    },

    remove,

    prune(maxIdleMs) {
      const at = now();
      const kept = spares.filter((file) => {
        const keep = at - file.writtenAt < maxIdleMs && !gone(file);
        if (!keep) removeLater(file);
        return keep;
      });
      spares.length = 0;
      for (const file of kept) spares.push(file);
      // Open files go to the spares reused next (the last answered): older ones give theirs up.
      for (let i = spares.length - 1 - MAX_OPEN / 2; i >= 0; i--) closeFd(spares[i]!);
    },

    owns: (path) => live.has(path),

    close() {
      for (const s of spares.splice(0)) remove(s);
      for (const path of doomed.splice(0)) unlink(path);
    },
  };
}
