// The files behind challenges (services/himds/key-files.ts): an answered challenge's file is reused
// for a later one with the new secret written over the spent one, a burst of challenges does not
// keep a descriptor open per file, and idle spares leave the folder along with their descriptors.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyFiles, type KeyFile } from '../../../services/himds/key-files.ts';
import { eventually, memoryLogger, tempDir } from '../../helpers/world.ts';

const secret = () => Buffer.from(randomBytes(32).toString('hex'));
const openFds = () => readdirSync('/proc/self/fd').length;

function keyFiles() {
  const dir = tempDir('azcm-keyfiles-');
  const files = createKeyFiles({ dir, gid: undefined, log: memoryLogger().log, now: Date.now });
  return { dir, files };
}

describe('key files', () => {
  it('reuse an answered challenge file with the new secret, 0640, and never one still open', async () => {
    const { dir, files } = keyFiles();
    await files.prepare();
    const [sa, sb] = [secret(), secret()];
    const a = await files.write(sa);
    const b = await files.write(sb);
    expect(b.path).not.toBe(a.path); // both open: two files
    files.retire(a);
    const sc = secret();
    const c = await files.write(sc);
    expect(c.path).toBe(a.path);
    expect(readFileSync(c.path, 'utf8')).toBe(sc.toString());
    expect(statSync(c.path).mode & 0o777).toBe(0o640);
    expect(readFileSync(b.path, 'utf8')).toBe(sb.toString());
    expect(files.owns(c.path) && files.owns(b.path)).toBe(true);
    expect(readdirSync(dir)).toHaveLength(2);
    files.close();
  });

  it('keeps a bounded number of files open through a burst, and releases them with the spares', async () => {
    const { dir, files } = keyFiles();
    await files.prepare();
    const before = openFds();
    const burst: KeyFile[] = [];
    for (let i = 0; i < 600; i++) burst.push(await files.write(secret()));
    expect(openFds() - before).toBeLessThanOrEqual(300);
    for (const f of burst) files.retire(f);
    // Reused in turn, with their new secrets, still without a descriptor each.
    for (let i = 0; i < 600; i++) {
      const s = secret();
      const f = await files.write(s);
      expect(readFileSync(f.path, 'utf8')).toBe(s.toString());
      files.retire(f);
    }
    expect(openFds() - before).toBeLessThanOrEqual(300);
    expect(readdirSync(dir)).toHaveLength(600);
    files.prune(0);
    await eventually(() => readdirSync(dir).length === 0, 10_000);
    expect(openFds()).toBeLessThanOrEqual(before);
    expect(files.owns(burst[0]!.path)).toBe(false);
  });
});
