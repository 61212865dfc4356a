// openLogFile keeps a service's log within maxFiles files of at most maxBytes each, in-process: each
// case writes numbered lines through a real pino logger and reads back every byte left on disk.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, openLogFile, rotatedLogPath, type LogFileOptions } from '../../core/index.ts';
import { tempDir } from '../helpers/world.ts';

/** Writes lines 1..count, each naming its number, and closes the files. */
async function writeLines(options: LogFileOptions, count: number, from = 1): Promise<void> {
  const file = openLogFile(options);
  const log = createLogger({ name: 't', destination: file });
  for (let i = from; i < from + count; i++) log.info({ n: i }, 'a line of about a hundred bytes');
  await file.close();
}

/** Every line on disk, oldest file first, as the numbers they carry. */
function numbersOnDisk(path: string, maxFiles: number): number[] {
  const numbers: number[] = [];
  for (let i = maxFiles - 1; i >= 0; i--) {
    const file = rotatedLogPath(path, i);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean))
      numbers.push((JSON.parse(line) as { n: number }).n);
  }
  return numbers;
}

const logFiles = (dir: string) => readdirSync(dir).sort();

describe('openLogFile', () => {
  it('names rotated files before the extension', () => {
    expect(rotatedLogPath('/h/log/arcproxy.log', 0)).toBe('/h/log/arcproxy.log');
    expect(rotatedLogPath('/h/log/arcproxy.log', 3)).toBe('/h/log/arcproxy.3.log');
  });

  it('keeps at most maxFiles files of at most maxBytes, holding the newest lines in order', async () => {
    const dir = tempDir();
    const path = join(dir, 'arcproxy.log');
    await writeLines({ path, maxBytes: 2048, maxFiles: 3 }, 300);
    expect(logFiles(dir)).toEqual(['arcproxy.1.log', 'arcproxy.2.log', 'arcproxy.log']);
    for (const f of logFiles(dir)) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(2048);
    const kept = numbersOnDisk(path, 3);
    // A contiguous run that ends with the last line written: nothing lost or reordered in between.
    expect(kept.at(-1)).toBe(300);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 300 - kept.length + 1 + i));
    // Two full files and the current one: well over one file's worth of lines survives.
    expect(kept.length).toBeGreaterThan(2 * Math.floor(2048 / 200));
  });

  it('loses no line across rotations when enough files are kept', async () => {
    const dir = tempDir();
    const path = join(dir, 'svc.log');
    await writeLines({ path, maxBytes: 1024, maxFiles: 100 }, 200);
    expect(logFiles(dir).length).toBeGreaterThan(5);
    expect(numbersOnDisk(path, 100)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('counts what an earlier run wrote: a restart does not start the size from zero', async () => {
    const dir = tempDir();
    const path = join(dir, 'svc.log');
    writeFileSync(path, `${JSON.stringify({ n: 0 })}\n`.padStart(1000, ' '));
    await writeLines({ path, maxBytes: 1024, maxFiles: 5 }, 1);
    // 1000 bytes already there plus one ~150-byte line is past 1024: the line opened a new file.
    expect(logFiles(dir)).toEqual(['svc.1.log', 'svc.log']);
    expect(numbersOnDisk(path, 5)).toEqual([0, 1]);
  });

  it('removes files past maxFiles that an earlier, larger setting left', async () => {
    const dir = tempDir();
    const path = join(dir, 'svc.log');
    for (const i of [1, 2, 3, 7]) writeFileSync(rotatedLogPath(path, i), 'old\n');
    writeFileSync(join(dir, 'other.9.log'), 'not ours\n');
    await writeLines({ path, maxBytes: 4096, maxFiles: 3 }, 1);
    expect(logFiles(dir)).toEqual(['other.9.log', 'svc.1.log', 'svc.2.log', 'svc.log']);
  });

  it('with maxFiles 1, drops old lines instead of growing past maxBytes', async () => {
    const dir = tempDir();
    const path = join(dir, 'svc.log');
    await writeLines({ path, maxBytes: 1024, maxFiles: 1 }, 100);
    expect(logFiles(dir)).toEqual(['svc.log']);
    expect(statSync(path).size).toBeLessThanOrEqual(1024);
    expect(numbersOnDisk(path, 1).at(-1)).toBe(100);
  });

  it('gives a line longer than maxBytes a file of its own', async () => {
    const dir = tempDir();
    const path = join(dir, 'svc.log');
    const file = openLogFile({ path, maxBytes: 100, maxFiles: 3 });
    file.write('short\n');
    file.write(`${'x'.repeat(300)}\n`);
    file.write('after\n');
    await file.close();
    expect(readFileSync(rotatedLogPath(path, 2), 'utf8')).toBe('short\n');
    expect(readFileSync(rotatedLogPath(path, 1), 'utf8')).toBe(`${'x'.repeat(300)}\n`);
    expect(readFileSync(path, 'utf8')).toBe('after\n');
  });

  it('reports a rotation that fails and keeps writing to the current file', async () => {
    const dir = tempDir();
    const path = join(dir, 'svc.log');
    mkdirSync(rotatedLogPath(path, 2)); // a folder where the oldest file would be removed
    const errors: Error[] = [];
    const file = openLogFile({ path, maxBytes: 100, maxFiles: 3, onError: (e) => errors.push(e) });
    file.write(`${'a'.repeat(80)}\n`);
    file.write(`${'b'.repeat(80)}\n`);
    await file.close();
    expect(errors.length).toBe(1);
    expect(readFileSync(path, 'utf8')).toBe(`${'a'.repeat(80)}\n${'b'.repeat(80)}\n`);
  });

  it('refuses a size or a count below 1', () => {
    const path = join(tempDir(), 'svc.log');
    expect(() => openLogFile({ path, maxBytes: 0 })).toThrow(RangeError);
    expect(() => openLogFile({ path, maxFiles: 0 })).toThrow(RangeError);
  });
});
