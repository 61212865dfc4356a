// `azcmagent logs`: the support bundle. A home is planted with secrets where they really turn up
// (proxy credentials in localconfig.json, a bearer token in a log line and in agentconfig.json, a
// private key in certs/ and inside a log, a token file in tokens/, a link from log/ into certs/);
// the bundle is tested by unzip and Python, unpacked, and searched byte by byte.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, azcmagent, startDaemon } from '../helpers/cli.ts';
import { closeServer, curl, execFileP, startOrigin, tempDir } from '../helpers/world.ts';

const PASSWORD = 'pw-Planted-4417';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJQbGFudGVkIn0.UGxhbnRlZFNpZ25hdHVyZQ';
const KEY_BODY = 'MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQPlanted';
const PEM = `-----BEGIN PRIVATE KEY-----\n${KEY_BODY}\n-----END PRIVATE KEY-----\n`;
const TOKEN_FILE_SECRET = 'himds-challenge-Planted-0042';
const SECRETS = [PASSWORD, TOKEN, KEY_BODY, TOKEN_FILE_SECRET];

function plantHome(): string {
  const home = tempDir();
  for (const d of ['log', 'certs', 'tokens']) mkdirSync(join(home, d));
  writeFileSync(
    join(home, 'localconfig.json'),
    JSON.stringify({
      'proxy.url': `http://alice:${PASSWORD}@proxy.contoso.com:8080`,
      'proxy.bypass': ['Arc'],
    }),
  );
  writeFileSync(
    join(home, 'agentconfig.json'),
    JSON.stringify({
      resourceName: 'web-01',
      resourceGroup: 'rg-planted',
      subscriptionId: '00000000-0000-0000-0000-000000000001',
      tenantId: '00000000-0000-0000-0000-000000000002',
      location: 'westeurope',
      cloud: 'AzureCloud',
      resourceId:
        '/subscriptions/x/resourceGroups/rg-planted/providers/Microsoft.HybridCompute/machines/web-01',
      status: 'Connected',
      accessToken: TOKEN,
    }),
  );
  writeFileSync(
    join(home, 'log', 'himds.log'),
    [
      '{"level":30,"msg":"heartbeat accepted"}',
      `2026-11-27 sent Authorization: Bearer ${TOKEN}`,
      `key loaded:\n${PEM}`,
      '{"level":30,"msg":"last line of himds.log"}',
      '',
    ].join('\n'),
  );
  writeFileSync(join(home, 'log', 'himds.1.log'), '{"msg":"an older, rotated line"}\n');
  writeFileSync(join(home, 'certs', 'machine.key'), PEM);
  writeFileSync(join(home, 'tokens', 'challenge.key'), TOKEN_FILE_SECRET);
  symlinkSync(join(home, 'certs', 'machine.key'), join(home, 'log', 'sneaky.log'));
  return home;
}

/** Tests the bundle with both tools, unpacks it, and returns every file's text by its name in the zip. */
function unpack(zip: string): Map<string, string> {
  execFileSync('unzip', ['-t', zip], { stdio: 'pipe' });
  execFileSync('python3', ['-m', 'zipfile', '-t', zip], { stdio: 'pipe' });
  const dir = tempDir('azcm-unzip-');
  execFileSync('unzip', ['-q', zip, '-d', dir]);
  const files = new Map<string, string>();
  const walk = (rel: string) => {
    for (const d of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const name = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(name);
      else files.set(name, readFileSync(join(dir, name), 'utf8'));
    }
  };
  walk('');
  return files;
}

describe('azcmagent logs', () => {
  it('bundles logs, configuration, meter, show, versions and OS, and no secret', async () => {
    const home = plantHome();
    const zip = join(tempDir(), 'bundle.zip');
    const r = await azcmagent(['logs', '--home', home, '-o', zip]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${zip}\n`);

    const files = unpack(zip);
    const all = [...files.values()].join('\n');
    for (const secret of SECRETS) expect(all, `the bundle holds ${secret}`).not.toContain(secret);
    expect(all).not.toContain('alice');
    expect([...files.keys()].filter((n) => /certs|tokens|sneaky/.test(n))).toEqual([]);

    expect([...files.keys()].sort()).toEqual([
      'config/agentconfig.json',
      'config/localconfig.json',
      'logs/azcmagent.log', // the CLI's own log, which this command opened
      'logs/himds.log',
      'manifest.json',
      'meter.json',
      'os.txt',
      'show.json',
      'versions.json',
    ]);
    const himds = files.get('logs/himds.log') ?? '';
    expect(himds).toContain('heartbeat accepted');
    expect(himds).toContain('sent Authorization: Bearer REDACTED');
    expect(himds).toContain('last line of himds.log');
    expect(JSON.parse(files.get('config/localconfig.json') ?? '')).toEqual({
      'proxy.url': 'http://REDACTED@proxy.contoso.com:8080',
      'proxy.bypass': ['Arc'],
    });
    expect(JSON.parse(files.get('config/agentconfig.json') ?? '')).toMatchObject({
      resourceName: 'web-01',
      resourceGroup: 'rg-planted',
      accessToken: 'REDACTED',
    });
    expect(JSON.parse(files.get('show.json') ?? '')).toMatchObject({
      resourceName: 'web-01',
      status: 'Connected',
      upstreamProxy: expect.stringContaining('proxy.contoso.com:8080') as string,
      services: { arcproxy: 'stopped' },
    });
    expect(JSON.parse(files.get('versions.json') ?? '')).toMatchObject({ node: process.versions.node });
    expect(files.get('os.txt')).toContain(execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
    expect(files.get('os.txt')).toContain(readFileSync('/etc/os-release', 'utf8').split('\n')[0]);
    const manifest = JSON.parse(files.get('manifest.json') ?? '') as { skipped: string[]; full: boolean };
    expect(manifest.full).toBe(false);
    expect(manifest.skipped).toEqual([
      'log/himds.1.log (rotated; use --full)',
      'log/sneaky.log (not a regular file)',
    ]);
  });

  it('adds rotated logs with --full', async () => {
    const home = plantHome();
    const zip = join(tempDir(), 'full.zip');
    expect((await azcmagent(['logs', '--home', home, '--output', zip, '--full'])).code).toBe(0);
    const files = unpack(zip);
    expect(files.get('logs/himds.1.log')).toBe('{"msg":"an older, rotated line"}\n');
    for (const secret of SECRETS) expect([...files.values()].join('\n')).not.toContain(secret);
  });

  it('names the bundle azcmagent-<time>-<host>.zip in the current folder by default', async () => {
    const home = plantHome();
    const cwd = tempDir();
    const { stdout } = await execFileP(process.execPath, [BIN, 'logs', '--home', home, '-j'], { cwd });
    const out = JSON.parse(stdout) as { file: string; entries: string[] };
    expect(readdirSync(cwd)).toEqual([out.file.slice(cwd.length + 1)]);
    expect(out.file.slice(cwd.length + 1)).toMatch(/^azcmagent-\d{8}T\d{6}Z-[A-Za-z0-9._-]+\.zip$/);
    expect(out.entries).toContain('logs/himds.log');
  });

  it('takes the meter from the running Arc Proxy, and its saved totals once it stopped', async () => {
    const home = tempDir();
    const origin = await startOrigin();
    const d = await startDaemon(['--services', 'arcproxy', '--home', home, '--proxy-port', '0']);
    await curl([
      '-o',
      '/dev/null',
      '-x',
      `http://extd@127.0.0.1:${d.port}`,
      `http://127.0.0.1:${origin.port}/bytes/777`,
    ]);
    const zip = join(tempDir(), 'live.zip');
    expect((await azcmagent(['logs', '--home', home, '-o', zip])).code).toBe(0);
    const live = unpack(zip);
    expect(JSON.parse(live.get('meter.json') ?? '')).toMatchObject({
      source: 'running Arc Proxy',
      snapshot: { entries: [{ client: 'extd', bytesReceived: 777 }] },
    });
    expect(JSON.parse(live.get('show.json') ?? '')).toMatchObject({ services: { arcproxy: 'running' } });
    expect(live.get('logs/arcproxy.log')).toContain('arcproxy ready');

    expect(await d.stop()).toBe(0);
    const saved = join(tempDir(), 'saved.zip');
    expect((await azcmagent(['logs', '--home', home, '-o', saved])).code).toBe(0);
    expect(JSON.parse(unpack(saved).get('meter.json') ?? '')).toMatchObject({
      source: 'saved totals',
      snapshot: { entries: [{ client: 'extd', bytesReceived: 777 }] },
    });
    await closeServer(origin.server);
  });

  it('refuses with LOGS_BUNDLE_FAILED when the bundle cannot be written, with nothing on stdout', async () => {
    const home = plantHome();
    const r = await azcmagent(['logs', '--home', home, '-o', '/nonexistent-folder/b.zip']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      'Error LOGS_BUNDLE_FAILED: the log bundle cannot be written: /nonexistent-folder/b.zip',
    );
    expect(r.stderr).toContain('To fix: choose a writable place with -o/--output FILE');
  });
});
