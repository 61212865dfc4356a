// Atomic writes: a new file gets its data and mode, `replace: false` never touches an existing file,
// and a temporary name that is already taken (a crash of an earlier process with this PID) is passed over.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempPath, writeFileAtomic } from '../../core/index.ts';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'azcm-atomic-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the data with the mode, replacing what was there, and leaves no temporary file', async () => {
    const file = join(dir, 'a.json');
    await writeFile(file, 'old');
    await writeFileAtomic(file, 'new', 0o600);
    expect(await readFile(file, 'utf8')).toBe('new');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['a.json']);
  });

  it('with replace: false, fails with EEXIST and keeps the file that is there', async () => {
    const file = join(dir, 'key');
    await writeFile(file, 'first');
    await expect(writeFileAtomic(file, 'second', 0o600, { replace: false })).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(await readFile(file, 'utf8')).toBe('first');
    expect(await readdir(dir)).toEqual(['key']);
    await writeFileAtomic(join(dir, 'other'), 'x', 0o600, { replace: false });
    expect(await readFile(join(dir, 'other'), 'utf8')).toBe('x');
  });

  it('passes over a temporary name that is taken, and leaves that file alone', async () => {
    const file = join(dir, 'b.json');
    // The names are .<name>.<pid>.<n>.tmp with a counter: the next one is known.
    const n = Number(/\.(\d+)\.tmp$/.exec(tempPath(file))![1]);
    const taken = `.${basename(file)}.${process.pid}.${n + 1}.tmp`;
    await writeFile(join(dir, taken), 'stale');
    await writeFileAtomic(file, 'data');
    expect(await readFile(file, 'utf8')).toBe('data');
    expect(await readFile(join(dir, taken), 'utf8')).toBe('stale');
    expect((await readdir(dir)).sort()).toEqual([taken, 'b.json'].sort());
  });
});
