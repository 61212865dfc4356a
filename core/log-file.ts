// A service's log file with size-based rotation and a cap on disk: <name>.log, <name>.1.log, …,
// <name>.(maxFiles-1).log, each at most maxBytes (a single longer line gets a file to itself).
// Rotation runs in-process on pino's own SonicBoom destination, not in a transport worker thread
// (pino-roll's way), which would cost the Arc Proxy several MB of RSS for a rename every 10 MB.
import { fstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { pino } from 'pino';

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LOG_MAX_FILES = 5;

export interface LogFileOptions {
  /** The current file, e.g. <home>/log/arcproxy.log. */
  path: string;
  /** Size at which the current file is rotated; default 10 MiB. */
  maxBytes?: number;
  /** Files kept, the current one included; default 5. maxBytes × maxFiles bounds the disk used. */
  maxFiles?: number;
  /** File mode of new files; default 0640 (logs are scrubbed, but stay the agent's business). */
  mode?: number;
  /** Told when a rotation fails; writing goes on in the current file and rotation is tried again later. */
  onError?: (err: Error) => void;
}

/** The pino destination: lines in, files out. */
export interface LogFile {
  write(line: string): void;
  /** Calls back once files rotated away are closed; the current file's pending bytes follow pino's flush. */
  flush(cb?: (err?: Error) => void): void;
  /** Ends every file and resolves once all bytes are written and the files are closed. */
  close(): Promise<void>;
}

/** arcproxy.log and 2 → arcproxy.2.log; index 0 is the current file itself. */
export function rotatedLogPath(path: string, index: number): string {
  if (index === 0) return path;
  const ext = extname(path);
  return `${path.slice(0, path.length - ext.length)}.${index}${ext}`;
}

/** Numbered files of `path` (arcproxy.3.log …) with their index, in no particular order. */
export function listRotatedLogs(path: string): { file: string; index: number }[] {
  const ext = extname(path);
  const stem = basename(path, ext);
  const pattern = new RegExp(`^${escapeRegExp(stem)}\\.(\\d+)${escapeRegExp(ext)}$`);
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const m = pattern.exec(name);
    return m ? [{ file: join(dirname(path), name), index: Number(m[1]) }] : [];
  });
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

type Destination = ReturnType<typeof pino.destination>;

/**
 * Opens (appending) the log file. Each file gets its own SonicBoom on a file descriptor opened here,
 * synchronously: at rotation the old file is renamed first and its SonicBoom then ended, so every byte
 * queued before the rotation lands in the file it was counted for (the descriptor follows the rename).
 * SonicBoom's reopen() would instead send the queued bytes to the new file.
 */
export function openLogFile(options: LogFileOptions): LogFile {
  const { path, maxBytes = DEFAULT_LOG_MAX_BYTES, maxFiles = DEFAULT_LOG_MAX_FILES, mode = 0o640 } = options;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError(`maxBytes ${maxBytes}`);
  if (!Number.isInteger(maxFiles) || maxFiles < 1) throw new RangeError(`maxFiles ${maxFiles}`);
  mkdirSync(dirname(path), { recursive: true });
  // A smaller maxFiles than last time: older files go now, so the cap holds from the start.
  for (const { file, index } of listRotatedLogs(path)) if (index >= maxFiles) rmSync(file, { force: true });

  const open = (): { dest: Destination; size: number } => {
    const fd = openSync(path, 'a', mode);
    return { dest: pino.destination({ fd, sync: false }), size: fstatSync(fd).size };
  };
  let { dest, size } = open();
  const retiring = new Set<Destination>();
  const closed = (d: Destination) => new Promise<void>((resolve) => d.once('close', () => resolve()));

  const rotate = () => {
    try {
      rmSync(rotatedLogPath(path, maxFiles - 1), { force: true });
      for (let i = maxFiles - 2; i >= 0; i--) {
        try {
          renameSync(rotatedLogPath(path, i), rotatedLogPath(path, i + 1));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      const old = dest;
      ({ dest, size } = open());
      retiring.add(old);
      old.once('close', () => retiring.delete(old));
      old.end();
    } catch (err) {
      // Keep writing where we are; the next try comes after another maxBytes.
      size = 0;
      options.onError?.(err as Error);
    }
  };

  return {
    write(line) {
      const bytes = Buffer.byteLength(line);
      if (size > 0 && size + bytes > maxBytes) rotate();
      dest.write(line);
      size += bytes;
    },
    flush(cb) {
      const pending = [...retiring].map(closed);
      dest.flush((err) => {
        void Promise.all(pending).then(() => cb?.(err));
      });
    },
    async close() {
      const all = [...retiring, dest].map(closed);
      dest.end();
      await Promise.all(all);
    },
  };
}
