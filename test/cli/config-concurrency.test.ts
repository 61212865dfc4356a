// localconfig.json cannot be corrupted or lose a change: concurrent `azcmagent config set` processes
// take turns under <home>/localconfig.json.lock, a lock left by a dead or hung process is removed
// (and said so), and a lock held by a live process ends the wait with CONFIG_LOCKED and the lock's path.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, azcmagent } from '../helpers/cli.ts';
import { execFileP, tempDir } from '../helpers/world.ts';

const N = 20;
const run = (home: string, ...args: string[]) => azcmagent([...args, '--home', home]);

/** Like `run`, with room for 40 processes starting at once on a small, busy machine. */
async function runSlowly(home: string, ...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await execFileP(process.execPath, [BIN, ...args, '--home', home], {
      timeout: 120_000,
    });
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string; signal?: string };
    return { code: e.code, stderr: `${e.signal ?? ''} ${e.stderr}` };
  }
}
const lockFile = (home: string) => join(home, 'localconfig.json.lock');
const writeLock = (home: string, pid: number) =>
  writeFileSync(
    lockFile(home),
    `${JSON.stringify({ pid, host: hostname(), since: new Date().toISOString(), token: 'test' })}\n`,
  );

describe('concurrent azcmagent config set', () => {
  it(`keeps every one of ${N} --add changes made alongside ${N} replacements of proxy.url`, async () => {
    const home = tempDir();
    const urls = Array.from({ length: N }, (_, i) => `http://proxy-${i}.contoso.com:${3000 + i}`);
    const entries = Array.from({ length: N }, (_, i) => `host-${i}.contoso.com:443`);
    const results = await Promise.all(
      urls.flatMap((url, i) => [
        runSlowly(home, 'config', 'set', 'proxy.url', url),
        runSlowly(home, 'config', 'set', 'arcproxy.allowlist', entries[i]!, '--add'),
      ]),
    );
    for (const r of results) expect(r.code, r.stderr).toBe(0);

    const config = JSON.parse(readFileSync(join(home, 'localconfig.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(urls).toContain(config['proxy.url']);
    expect([...(config['arcproxy.allowlist'] as string[])].sort()).toEqual([...entries].sort());
    // The backup is a complete earlier version, and nothing else is left beside the file.
    expect(
      () => JSON.parse(readFileSync(join(home, 'localconfig.json.bak'), 'utf8')) as unknown,
    ).not.toThrow();
    expect(readdirSync(home).sort()).toEqual(['localconfig.json', 'localconfig.json.bak']);
    const get = await run(home, 'config', 'get', 'arcproxy.allowlist', '-j');
    expect((JSON.parse(get.stdout) as Record<string, string[]>)['arcproxy.allowlist']).toHaveLength(N);
  }, 180_000);
});

describe('the configuration lock', () => {
  it('is removed, with a note, when the process that held it is gone', async () => {
    const home = tempDir();
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeLock(home, dead);
    const r = await run(home, 'config', 'set', 'proxy.bypass', 'ARM');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`removed a stale configuration lock ${lockFile(home)}`);
    expect(r.stderr).toContain(`process ${dead} that held it is gone`);
    expect(existsSync(lockFile(home))).toBe(false);
    expect((await run(home, 'config', 'get', 'proxy.bypass')).stdout).toBe('[ARM]\n');
  });

  it('is removed when it is older than any change takes, even if its PID is alive (reused)', async () => {
    const home = tempDir();
    writeLock(home, process.pid);
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(lockFile(home), hourAgo, hourAgo);
    const r = await run(home, 'config', 'set', 'proxy.bypass', 'Arc');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/removed a stale configuration lock .*: it is \d+ s old/);
    expect(existsSync(lockFile(home))).toBe(false);
  });

  it('held by a live process ends a bounded wait with CONFIG_LOCKED (69), its path, and the file untouched', async () => {
    const home = tempDir();
    writeFileSync(join(home, 'localconfig.json'), '{"proxy.bypass": ["AAD"]}\n');
    writeLock(home, process.pid);
    const r = await run(home, 'config', 'set', 'proxy.bypass', 'ARM');
    expect(r.code).toBe(69);
    expect(r.stderr).toContain('Error CONFIG_LOCKED');
    expect(r.stderr).toContain(lockFile(home));
    expect(r.stderr).toContain(`held by process ${process.pid}`);
    expect(r.stderr).toContain('To fix: wait for the other azcmagent command to finish');
    expect(readFileSync(join(home, 'localconfig.json'), 'utf8')).toBe('{"proxy.bypass": ["AAD"]}\n');
    expect(existsSync(lockFile(home))).toBe(true);
    // Reading needs no lock: writes are atomic renames, so a reader sees a whole file.
    expect((await run(home, 'config', 'get', 'proxy.bypass')).stdout).toBe('[AAD]\n');
  });
});
