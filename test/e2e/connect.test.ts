// connect and disconnect through real processes: the local cloud, `azcmagent run` (Arc Proxy and
// HIMDS), and the CLI, each its own process; every byte between agent and cloud through the Arc Proxy.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudProcess, type CloudProcess } from '../cloud/bin.ts';
import { azcmagent, startDaemon, type Daemon } from '../helpers/cli.ts';
import { eventually, tempDir } from '../helpers/world.ts';

let cloud: CloudProcess;
let dataDir: string;
let profile: string;
let connectConfig: string;
const daemons: Daemon[] = [];

beforeAll(async () => {
  dataDir = tempDir('azcm-cloud-');
  cloud = await startCloudProcess(['--data', dataDir, '--port', '0']);
  profile = join(dataDir, 'profile.json');
  connectConfig = join(dataDir, 'connect.json');
});
afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await cloud.stop();
});

async function agent(cloudArg = profile): Promise<{ home: string; daemon: Daemon }> {
  const home = tempDir();
  const daemon = await startDaemon([
    '--home',
    home,
    '--proxy-port',
    '0',
    '--himds-port',
    '0',
    '--cloud',
    cloudArg,
  ]);
  daemons.push(daemon);
  return { home, daemon };
}

const show = async (home: string) =>
  JSON.parse((await azcmagent(['show', '-j', '--home', home])).stdout) as Record<string, string>;

describe('connect and disconnect', () => {
  it('connects through the Arc Proxy, heartbeats, and disconnects, deleting the resource', async () => {
    const { home } = await agent();
    const connected = await azcmagent([
      'connect',
      '--home',
      home,
      '--config',
      connectConfig,
      '--resource-name',
      'e2e-one',
    ]);
    expect(connected.code, connected.stderr).toBe(0);
    expect(connected.stdout).toContain('Microsoft.HybridCompute/machines/e2e-one');
    await eventually(async () => (await show(home))['lastHeartbeat'] !== '', 10_000);
    expect(await show(home)).toMatchObject({
      status: 'Connected',
      resourceName: 'e2e-one',
      location: 'eastus',
    });

    // Every call to the cloud went through the proxy, under the caller's client id.
    const stats = JSON.parse((await azcmagent(['proxy', 'stats', '--json', '--home', home])).stdout) as {
      entries: { client: string; destination: string }[];
    };
    const seen = stats.entries.map((e) => `${e.client} ${e.destination}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        'azcmagent login.arc-local.test:443',
        'azcmagent management.arc-local.test:443',
        'azcmagent gbl.his.arc-local.test:443',
      ]),
    );

    const again = await azcmagent(['connect', '--home', home, '--config', connectConfig]);
    expect(again.code).toBe(67);
    expect(again.stderr).toContain('AGENT_ALREADY_CONNECTED');

    const noCredentials = await azcmagent(['disconnect', '--home', home]);
    expect(noCredentials.code).toBe(16);
    expect(noCredentials.stderr).toContain('--force-local-only');

    const gone = await azcmagent(['disconnect', '--home', home, '--config', connectConfig]);
    expect(gone.code, gone.stderr).toBe(0);
    expect((await show(home))['status']).toBe('NotConnected');
    // The resource is gone in the cloud: the same name can be connected again from another machine.
    const { home: other } = await agent();
    expect(
      (await azcmagent(['connect', '--home', other, '--config', connectConfig, '--resource-name', 'e2e-one']))
        .code,
    ).toBe(0);
  });

  it('refuses with the real exit codes and says what to do', async () => {
    const { home } = await agent();
    const cfg = JSON.parse(readFileSync(connectConfig, 'utf8')) as Record<string, string>;

    const missing = await azcmagent([
      'connect',
      '--home',
      home,
      '--tenant-id',
      cfg['tenant-id']!,
      '--location',
      'eastus',
      '--resource-group',
      'rg',
      '--cloud',
      profile,
      '--access-token',
      'x',
    ]);
    expect(missing.code).toBe(16);
    expect(missing.stderr).toContain('--subscription-id');

    const badSecret = join(tempDir(), 'bad.json');
    writeFileSync(badSecret, JSON.stringify({ ...cfg, 'service-principal-secret': 'wrong' }));
    const denied = await azcmagent([
      'connect',
      '--home',
      home,
      '--config',
      badSecret,
      '--resource-name',
      'e2e-bad',
    ]);
    expect(denied.code).toBe(41);
    expect(denied.stderr).not.toContain(cfg['service-principal-secret']);

    const regional = join(tempDir(), 'profile.json');
    writeFileSync(
      regional,
      JSON.stringify({ ...JSON.parse(readFileSync(profile, 'utf8')), regions: ['eastus'] }),
    );
    const region = await azcmagent([
      'connect',
      '--home',
      home,
      '--config',
      connectConfig,
      '--cloud',
      regional,
      '--location',
      'marsnorth',
    ]);
    expect(region.code).toBe(20);

    const first = await azcmagent([
      'connect',
      '--home',
      home,
      '--config',
      connectConfig,
      '--resource-name',
      'e2e-twin',
    ]);
    expect(first.code, first.stderr).toBe(0);
    const { home: twin } = await agent();
    const exists = await azcmagent([
      'connect',
      '--home',
      twin,
      '--config',
      connectConfig,
      '--resource-name',
      'e2e-twin',
    ]);
    expect(exists.code).toBe(44);
  });

  it('fails with 26, naming the host and the command, when the allow-list refuses the cloud', async () => {
    // This agent's proxy knows only the public cloud's endpoints, and enforces them.
    const { home, daemon } = await agent('AzureCloud');
    expect(
      (await azcmagent(['config', 'set', 'arcproxy.allowlist.mode', 'enforce', '--home', home])).code,
    ).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    const r = await azcmagent([
      'connect',
      '--home',
      home,
      '--config',
      connectConfig,
      '--resource-name',
      'e2e-fenced',
    ]);
    expect(r.code).toBe(26);
    expect(r.stderr).toContain('login.arc-local.test');
    expect(r.stderr).toContain('azcmagent config set arcproxy.allowlist login.arc-local.test:443 --add');
    expect(daemon.port).toBeGreaterThan(0);
  });
});
