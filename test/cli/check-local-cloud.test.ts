// `azcmagent check` against the local cloud: with its profile every endpoint is reachable (exit 0);
// the connected cloud and region are the default; regional endpoints are filled in from the data.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.ts';
import { execFileP } from '../helpers/world.ts';
import {
  type CheckCloud,
  reportOf,
  runCheck,
  startCheckCloud,
  writeHome,
  writeProfile,
} from './check-world.ts';

let cloud: CheckCloud;
beforeAll(async () => {
  cloud = await startCheckCloud();
});
afterAll(() => cloud.stop());

const row = (host: string) => new RegExp(`^https://${host.replaceAll('.', '\\.')} .*$`, 'm');

describe('azcmagent check against the local cloud', () => {
  it('finds every endpoint reachable, direct, with TLS and a latency, and exits 0', async () => {
    const r = await runCheck(writeHome(), ['--cloud', cloud.profilePath, '--location', 'eastus']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Cloud: Local (location eastus)');
    expect(r.stdout).toContain('Connection type: direct (connection.type default; no Arc gateway');
    expect(r.stdout).toMatch(/^ENDPOINT +REACHABLE +ROUTE +PROXY +PRIVATE +TLS +LATENCY +CAUSE$/m);
    for (const host of [
      'login.arc-local.test',
      'management.arc-local.test',
      'gbl.his.arc-local.test',
      'eastus.his.arc-local.test',
      'agentserviceapi.guestconfiguration.arc-local.test',
      'guestnotificationservice.arc-local.test',
    ])
      expect(row(host).exec(r.stdout)?.[0]).toMatch(/ true +direct +- +true +TLS 1\.[23] +\d+ ms$/);
    expect(r.stdout).toContain('6 of 6 endpoints reachable');
    // On a pipe there is no progress line: stderr stays empty.
    expect(r.stderr).toBe('');
  });

  it('prints stable JSON with -j', async () => {
    const r = await runCheck(writeHome(), ['--cloud', cloud.profilePath, '--location', 'eastus', '-j']);
    expect(r.code, r.stderr).toBe(0);
    const report = reportOf(r);
    expect(Object.keys(report)).toEqual([
      'cloud',
      'location',
      'connectionType',
      'connectionTypeSetting',
      'gatewayUrl',
      'proxyBypassIgnored',
      'proxy',
      'allowListMode',
      'passed',
      'summary',
      'endpoints',
      'checks',
      'notes',
    ]);
    expect(report).toMatchObject({
      cloud: 'Local',
      location: 'eastus',
      connectionType: 'direct',
      connectionTypeSetting: 'default',
      gatewayUrl: null,
      proxyBypassIgnored: false,
      proxy: null,
      allowListMode: 'audit',
      passed: true,
      summary: { total: 6, reachable: 6, passed: 6, failedRequired: 0, failedOptional: 0, skipped: 0 },
      notes: [],
    });
    const login = report.endpoints[0]!;
    expect(Object.keys(login)).toEqual([
      'url',
      'host',
      'port',
      'purpose',
      'required',
      'extension',
      'status',
      'reachable',
      'route',
      'proxy',
      'dns',
      'tls',
      'httpStatus',
      'latencyMs',
      'timingsMs',
      'cause',
      'error',
      'notes',
    ]);
    expect(login).toMatchObject({
      url: 'https://login.arc-local.test',
      host: 'login.arc-local.test',
      port: 443,
      required: true,
      extension: null,
      status: 'passed',
      reachable: true,
      route: 'direct',
      proxy: null,
      dns: { addresses: ['127.0.0.1'], private: true, source: 'resolve-map' },
      tls: { version: expect.stringMatching(/^TLSv1\.[23]$/), cipher: expect.any(String) },
      httpStatus: expect.any(Number),
      latencyMs: expect.any(Number),
      timingsMs: {
        dns: expect.any(Number),
        connect: expect.any(Number),
        tls: expect.any(Number),
        http: expect.any(Number),
      },
      cause: null,
      error: null,
    });
    expect(report.checks).toEqual([
      expect.objectContaining({ name: 'clock-skew', status: 'ok', seconds: expect.any(Number), answers: 6 }),
    ]);
  });

  it('checks the connected cloud and region by default, filling in regional hosts from the data', async () => {
    const profile = writeProfile(cloud, {
      check: [
        { url: 'https://{region}.his.arc-local.test', purpose: 'regional identity', need: 'required' },
        { url: 'https://{regionCode}.his.arc-local.test', purpose: 'by code', need: 'required' },
      ],
      regionCodes: { eastus: 'eastus2' },
    });
    const home = writeHome();
    writeFileSync(
      join(home, 'agentconfig.json'),
      JSON.stringify({
        resourceName: 'm1',
        resourceGroup: 'rg',
        subscriptionId: 's',
        tenantId: 't',
        location: 'eastus',
        cloud: profile,
        resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m1',
      }),
    );
    const connected = reportOf(await runCheck(home, ['-j']));
    expect(connected.location).toBe('eastus');
    expect(connected.endpoints.map((e) => [e.url, e.status])).toEqual([
      ['https://eastus.his.arc-local.test', 'passed'],
      ['https://eastus2.his.arc-local.test', 'passed'],
    ]);

    // A region without a short code: that endpoint is skipped with why, not failed.
    const r = await runCheck(writeHome(), ['--cloud', profile, '--location', 'westeurope']);
    expect(r.code, r.stderr).toBe(0);
    expect(row('westeurope.his.arc-local.test').exec(r.stdout)?.[0]).toMatch(/ true +direct /);
    expect(r.stdout).toMatch(/^https:\/\/\{regionCode\}\.his\.arc-local\.test +skipped/m);
    expect(r.stdout).toContain('the short code of region westeurope in Local is not known');
  });

  it('wants --location with --cloud (16), and a region the cloud has (20)', async () => {
    const missing = await runCheck(writeHome(), ['--cloud', cloud.profilePath]);
    expect(missing.code).toBe(16);
    expect(missing.stderr).toContain('--location');
    const unknown = await runCheck(writeHome(), ['--cloud', cloud.profilePath, '--location', 'marsnorth']);
    expect(unknown.code).toBe(20);
  });

  it('passes --enable-pls-check when every private-link endpoint has a private address', async () => {
    const r = reportOf(
      await runCheck(writeHome(), ['--cloud', cloud.profilePath, '-l', 'eastus', '-p', '-j']),
    );
    expect(r.passed).toBe(true);
    expect(r.endpoints.every((e) => e.dns?.private)).toBe(true);
  });

  const hasScript = (() => {
    try {
      execFileSync('script', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasScript)('shows progress on a terminal', async () => {
    const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
    const command = [process.execPath, BIN, 'check', '--home', writeHome(), '--cloud', cloud.profilePath]
      .concat(['--location', 'eastus'])
      .map(quote)
      .join(' ');
    // script(1) runs the command on a pseudo-terminal: stdout and stderr are both a TTY there.
    const { stdout } = await execFileP('script', ['-qec', command, '/dev/null'], { timeout: 20_000 });
    expect(stdout).toContain('checking endpoints');
    expect(stdout).toContain('6 of 6 endpoints reachable');
  });
});
