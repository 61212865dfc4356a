// Crash-safe file writes: a temporary file beside the target, fsync, rename (or link, to never
// replace one), fsync of the folder. A reader sees the old content or the new, never half of either.
import { link, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

let made = 0;

/**
 * A name beside `path` for a temporary file, `.<name>.<pid>.<n><suffix>`, made as write-file-atomic
 * makes its names: the PID keeps processes apart and the counter this process's files, with no random
 * bytes (so no node:crypto). A name can still be taken, left by a crash of an earlier process with this
 * PID or made by another thread of this one, so whoever uses it creates the file exclusively (O_EXCL,
 * or link) and fails rather than share it.
 */
export const tempPath = (path: string, suffix = '.tmp'): string =>
  join(dirname(path), `.${basename(path)}.${process.pid}.${++made}${suffix}`);

/** A temporary file beside `path`, created exclusively; a taken name is passed over for the next. */
async function createTemp(path: string, mode: number): Promise<{ tmp: string; fh: FileHandle }> {
  for (;;) {
    const tmp = tempPath(path);
    try {
      return { tmp, fh: await open(tmp, 'wx', mode) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/**
 * Puts `data` at `path` with `mode`, all or nothing. With `replace: false` an existing file is kept
 * and the write fails with EEXIST, also when one appeared while the data was being written.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode = 0o644,
  { replace = true }: { replace?: boolean } = {},
): Promise<void> {
  const dir = dirname(path);
  const { tmp, fh } = await createTemp(path, mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    if (replace) await rename(tmp, path);
    else await link(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (!replace) await rm(tmp, { force: true });
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
