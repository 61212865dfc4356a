// createZipFile writes archives that other tools accept: Info-ZIP's `unzip -t` and Python's zipfile
// test them, and Python reads back every name, byte, method and time.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createZipFile } from '../../core/index.ts';
import { tempDir } from '../helpers/world.ts';

interface Listed {
  name: string;
  hex: string;
  method: number;
  date: number[];
}

/** Every entry as Python's zipfile reads it. */
function pythonList(path: string): Listed[] {
  const script = `
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    print(json.dumps([{"name": i.filename, "hex": z.read(i).hex(), "method": i.compress_type,
                       "date": list(i.date_time)} for i in z.infolist()]))`;
  return JSON.parse(execFileSync('python3', ['-c', script, path], { encoding: 'utf8' })) as Listed[];
}

describe('createZipFile', () => {
  it('writes an archive that unzip and Python test and read back byte for byte', async () => {
    const dir = tempDir();
    const path = join(dir, 'bundle.zip');
    const text = 'line of a log\n'.repeat(500);
    const random = randomBytes(4096);
    const when = new Date(2026, 10, 27, 13, 45, 30);
    const zip = await createZipFile(path);
    await zip.add('logs/arcproxy.log', text, when);
    await zip.add('empty.txt', '');
    await zip.add('random.bin', random);
    await zip.add('notes/Grüße.txt', 'ü\n');
    expect(existsSync(path)).toBe(false); // not there until closed
    expect(await zip.close()).toMatchObject({ entries: 4 });

    execFileSync('unzip', ['-t', path], { stdio: 'pipe' });
    execFileSync('python3', ['-m', 'zipfile', '-t', path], { stdio: 'pipe' });
    const listed = pythonList(path);
    expect(listed.map((e) => e.name)).toEqual([
      'logs/arcproxy.log',
      'empty.txt',
      'random.bin',
      'notes/Grüße.txt',
    ]);
    expect(listed[0]).toMatchObject({
      hex: Buffer.from(text).toString('hex'),
      method: 8,
      date: [2026, 11, 27, 13, 45, 30],
    });
    expect(listed[1]).toMatchObject({ hex: '', method: 0 });
    // Random bytes do not shrink: stored as they are.
    expect(listed[2]).toMatchObject({ hex: random.toString('hex'), method: 0 });
    expect(listed[3]?.hex).toBe(Buffer.from('ü\n').toString('hex'));
  });

  it('makes the archive readable by its owner only', async () => {
    const path = join(tempDir(), 'b.zip');
    const zip = await createZipFile(path);
    await zip.add('a.txt', 'a');
    await zip.close();
    expect(execFileSync('stat', ['-c', '%a', path], { encoding: 'utf8' }).trim()).toBe('600');
  });

  it.each(['/etc/passwd', '../up.txt', 'a/../../b', 'a\\b', 'a//b', ''])(
    'refuses the entry name %j',
    async (name) => {
      const dir = tempDir();
      const zip = await createZipFile(join(dir, 'b.zip'));
      await expect(zip.add(name, 'x')).rejects.toThrow(RangeError);
      await zip.abort();
      expect(readdirSync(dir)).toEqual([]);
    },
  );
});
