// `azcmagent run` keeps each service's log under <home>/log within --log-max-files files of at most
// --log-max-size, rotating in the daemon's own process. Log lines come from real proxy traffic: each
// request to a closed port logs warning lines that name its client.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { azcmagent, startDaemon } from '../helpers/cli.ts';
import { curl, tempDir } from '../helpers/world.ts';

/** Sends `count` requests, one after another, each as client c<i>, to a port where nothing listens. */
async function refusedRequests(port: number, count: number): Promise<void> {
  for (let i = 1; i <= count; i++)
    await curl(['-o', '/dev/null', '-x', `http://c${i}@127.0.0.1:${port}`, 'http://127.0.0.1:1/']);
}

/** The client of each refusal line (every request also logs an audit line first). */
const clientsIn = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { client?: string; code?: string })
    .filter((l) => l.code === 'ARCPROXY_UPSTREAM_REFUSED')
    .map((l) => l.client);

describe('azcmagent run log rotation', () => {
  it('rotates arcproxy.log by size and keeps at most --log-max-files files', async () => {
    const home = tempDir();
    const log = join(home, 'log');
    const d = await startDaemon([
      '--services',
      'arcproxy',
      '--home',
      home,
      '--proxy-port',
      '0',
      '--log-max-size',
      '2K',
      '--log-max-files',
      '3',
    ]);
    await refusedRequests(d.port, 40);
    expect(await d.stop()).toBe(0);

    expect(readdirSync(log).sort()).toEqual(['arcproxy.1.log', 'arcproxy.2.log', 'arcproxy.log']);
    for (const f of readdirSync(log)) expect(statSync(join(log, f)).size, f).toBeLessThanOrEqual(2048);
    // Oldest file first: the newest requests, in order, without a gap; the first ones rotated away.
    const clients = ['arcproxy.2.log', 'arcproxy.1.log', 'arcproxy.log'].flatMap((f) =>
      clientsIn(readFileSync(join(log, f), 'utf8')),
    );
    expect(clients.at(-1)).toBe('c40');
    const first = Number(clients[0]?.slice(1));
    expect(first).toBeGreaterThan(1);
    expect(clients).toEqual(Array.from({ length: 41 - first }, (_, i) => `c${first + i}`));
  });

  it('appends to the same file after a restart', async () => {
    const home = tempDir();
    const args = ['--services', 'arcproxy', '--home', home, '--proxy-port', '0', '--log-max-files', '2'];
    const first = await startDaemon(args);
    expect(await first.stop()).toBe(0);
    const second = await startDaemon(args);
    expect(await second.stop()).toBe(0);
    const text = readFileSync(join(home, 'log', 'arcproxy.log'), 'utf8');
    expect(text.match(/"arcproxy ready"/g)?.length).toBe(2);
    expect(existsSync(join(home, 'log', 'arcproxy.1.log'))).toBe(false);
  });

  it('refuses a size or a count it cannot use', async () => {
    for (const [flag, value, message] of [
      ['--log-max-size', '10X', '--log-max-size 10X: a size of at least 1K'],
      ['--log-max-size', '100', '--log-max-size 100: a size of at least 1K'],
      ['--log-max-files', '0', '--log-max-files 0: a number from 1 to 1000'],
    ] as const) {
      const r = await azcmagent(['run', '--services', 'arcproxy', '--home', tempDir(), flag, value]);
      expect(r.code).toBe(23);
      expect(r.stderr).toContain(message);
    }
  });
});

describe('azcmagent run -v', () => {
  it('logs at debug level, unless --log-level says otherwise', async () => {
    const tunnelLines = async (extra: string[]) => {
      const home = tempDir();
      const d = await startDaemon(['--services', 'arcproxy', '--home', home, '--proxy-port', '0', ...extra]);
      // A tunnel to the proxy's own health port; its close is logged at debug level.
      await curl([
        '-p',
        '-o',
        '/dev/null',
        '-x',
        `http://t@127.0.0.1:${d.port}`,
        `http://127.0.0.1:${d.port}/health`,
      ]);
      expect(await d.stop()).toBe(0);
      const text = readFileSync(join(home, 'log', 'arcproxy.log'), 'utf8');
      return { debug: text.includes('"tunnel closed"'), info: text.includes('"arcproxy ready"') };
    };
    expect(await tunnelLines([])).toEqual({ debug: false, info: true });
    expect(await tunnelLines(['-v'])).toEqual({ debug: true, info: true });
    expect(await tunnelLines(['-v', '--log-level', 'warn'])).toEqual({ debug: false, info: false });
  });
});
