// `azcmagent run` as a foreground daemon, and `azcmagent proxy stats` over its socket or its saved totals.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { azcmagent, startDaemon } from '../helpers/cli.ts';
import { curl, startOrigin, closeServer, tempDir } from '../helpers/world.ts';

describe('azcmagent run', () => {
  it('prints a readiness line with the port it picked, logs under <home>/log, and exits 0 on SIGTERM', async () => {
    const home = tempDir();
    const d = await startDaemon(['--services', 'arcproxy', '--home', home, '--proxy-port', '0']);
    expect(d.port).toBeGreaterThan(0);
    expect((await curl([`http://127.0.0.1:${d.port}/health`])).stdout).toContain('"status":"ok"');
    expect(await d.stop('SIGTERM')).toBe(0);
    expect(d.stdout()).toContain('SIGTERM, draining');
    expect(readFileSync(join(home, 'log', 'arcproxy.log'), 'utf8')).toContain('arcproxy ready');
    expect(existsSync(join(home, 'socks', 'arcproxy.sock'))).toBe(false);
  });

  it('says which services are not built yet instead of pretending', async () => {
    const home = tempDir();
    const d = await startDaemon(['--home', home, '--proxy-port', '0', '--himds-port', '0']);
    const code = await d.stop('SIGINT');
    expect(code, d.stdout() + d.stderr()).toBe(0);
    for (const s of ['extd', 'gcad']) expect(d.stderr()).toContain(`${s} is not built yet`);
    expect(d.stderr()).not.toContain('himds is not built yet');
    expect(d.stdout()).toMatch(/himds ready on http:\/\/127\.0\.0\.1:\d+/);
    const none = await azcmagent(['run', '--services', 'himds', '--home', home]);
    expect(none.code).toBe(23);
    expect(none.stderr).toContain('include arcproxy in --services');
  });

  it('refuses bad arguments with a code, a reason and a fix', async () => {
    const bad = await azcmagent(['run', '--services', 'arcproxy,ftpd', '--home', tempDir()]);
    expect(bad.code).toBe(23);
    expect(bad.stderr).toMatch(/ARGUMENT_INVALID: invalid argument: unknown service ftpd/);
    expect(bad.stderr).toContain('To fix:');
    const port = await azcmagent([
      'run',
      '--services',
      'arcproxy',
      '--proxy-port',
      '99999',
      '-j',
      '--home',
      tempDir(),
    ]);
    expect(port.code).toBe(23);
    expect(JSON.parse(port.stdout)).toMatchObject({ error: { code: 'ARGUMENT_INVALID' } });
  });

  it('refuses a corrupt localconfig.json with its path instead of replacing it', async () => {
    const home = tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(home, 'localconfig.json'), '{"proxy.url": ');
    const r = await azcmagent(['run', '--services', 'arcproxy', '--home', home, '--proxy-port', '0']);
    expect(r.code).toBe(70);
    expect(r.stderr).toContain(join(home, 'localconfig.json'));
    expect(readFileSync(join(home, 'localconfig.json'), 'utf8')).toBe('{"proxy.url": ');
  });
});

describe('azcmagent proxy stats', () => {
  it('shows live totals, and the saved totals after a restart', async () => {
    const home = tempDir();
    const origin = await startOrigin();
    const first = await startDaemon(['--services', 'arcproxy', '--home', home, '--proxy-port', '0']);
    await curl([
      '-o',
      '/dev/null',
      '-x',
      `http://himds@127.0.0.1:${first.port}`,
      `http://127.0.0.1:${origin.port}/bytes/4096`,
    ]);
    const live = await azcmagent(['proxy', 'stats', '--home', home]);
    expect(live.code).toBe(0);
    expect(live.stdout).toMatch(
      new RegExp(`^himds\\s+127\\.0\\.0\\.1:${origin.port}\\s+direct\\s+0\\s+4096\\s+0\\s+1`, 'm'),
    );
    expect(await first.stop()).toBe(0);

    const saved = await azcmagent(['proxy', 'stats', '--json', '--home', home]);
    expect(saved.stderr).toContain('not running');
    expect(JSON.parse(saved.stdout)).toMatchObject({
      running: false,
      entries: [{ client: 'himds', bytesReceived: 4096, requests: 1 }],
    });

    const second = await startDaemon(['--services', 'arcproxy', '--home', home, '--proxy-port', '0']);
    await curl([
      '-o',
      '/dev/null',
      '-x',
      `http://himds@127.0.0.1:${second.port}`,
      `http://127.0.0.1:${origin.port}/bytes/1000`,
    ]);
    const after = JSON.parse((await azcmagent(['proxy', 'stats', '--json', '--home', home])).stdout) as {
      running: boolean;
      entries: { bytesReceived: number; requests: number }[];
    };
    expect(after.running).toBe(true);
    expect(after.entries[0]).toMatchObject({ bytesReceived: 5096, requests: 2 });
    await second.stop();
    await closeServer(origin.server);
  });
});
