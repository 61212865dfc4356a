// Onboarding through the local cloud's Arc gateway, and the running agent following the association
// as it changes in ARM: real processes (the local cloud, `azcmagent run`, the CLI), real TLS, and the
// files and commands a user would look at (cloudconfig.json, `show`, `proxy stats`).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudConfig } from '../../core/index.ts';
import { startCloudProcess, type CloudProcess } from '../cloud/bin.ts';
import { azcmagent, startDaemon, type Daemon } from '../helpers/cli.ts';
import { eventually, tempDir } from '../helpers/world.ts';

let cloud: CloudProcess;
let dataDir: string;
let profile: string;
let gatewayConfig: string;
let settings: Record<string, string>;
let armClient: Agent;
const daemons: Daemon[] = [];

beforeAll(async () => {
  dataDir = tempDir('azcm-cloud-');
  // Short heartbeats, so that an association changed in ARM shows within seconds.
  cloud = await startCloudProcess(['--data', dataDir, '--port', '0', '--heartbeat-interval', '1']);
  profile = join(dataDir, 'profile.json');
  gatewayConfig = join(dataDir, 'connect-gateway.json');
  settings = JSON.parse(readFileSync(gatewayConfig, 'utf8')) as Record<string, string>;
  armClient = new Agent({ connect: { ca: readFileSync(join(dataDir, 'ca.pem')) } });
});
afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await cloud.stop();
  await armClient.close();
});

async function agent(): Promise<string> {
  const home = tempDir();
  daemons.push(
    await startDaemon(['--home', home, '--proxy-port', '0', '--himds-port', '0', '--cloud', profile]),
  );
  return home;
}

const cloudConfig = (home: string): CloudConfig =>
  JSON.parse(readFileSync(join(home, 'cloudconfig.json'), 'utf8')) as CloudConfig;
const show = async (home: string) =>
  JSON.parse((await azcmagent(['show', '-j', '--home', home])).stdout) as Record<string, string>;
const stats = async (home: string) =>
  (
    JSON.parse((await azcmagent(['proxy', 'stats', '--json', '--home', home])).stdout) as {
      entries: { client: string; destination: string; route: string }[];
    }
  ).entries.map((e) => `${e.client} ${e.destination} ${e.route}`);

/** The running Arc Proxy's own account of itself: `gateway` is the gateway new connections use. */
const proxyHealth = (home: string) =>
  new Promise<Record<string, unknown>>((resolve, reject) => {
    http
      .get({ socketPath: join(home, 'socks', 'arcproxy.sock'), path: '/health' }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
      })
      .on('error', reject);
  });

/** ARM as an administrator sees it: the onboarding service principal, straight to the cloud. */
async function arm(method: 'GET' | 'PUT', path: string, body?: unknown, apiVersion = '2024-07-31-preview') {
  const base = `https://localhost:${cloud.port}`;
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: settings['service-principal-id']!,
    client_secret: settings['service-principal-secret']!,
    scope: 'https://management.arc-local.test/.default',
  });
  const t = await request(`${base}/${settings['tenant-id']}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    dispatcher: armClient,
  });
  const { access_token: token } = (await t.body.json()) as { access_token: string };
  const a = await request(`${base}${path}?api-version=${apiVersion}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
    dispatcher: armClient,
  });
  return { status: a.statusCode, json: (await a.body.json()) as Record<string, unknown> };
}

const machineId = (name: string) =>
  `/subscriptions/${settings['subscription-id']}/resourceGroups/${settings['resource-group']}/providers/Microsoft.HybridCompute/machines/${name}`;
const associate = (name: string, gatewayResourceId: string | null) =>
  arm('PUT', `${machineId(name)}/providers/Microsoft.HybridCompute/settings/default`, {
    properties: { gatewayProperties: { gatewayResourceId } },
  });

describe('connect through the Arc gateway', () => {
  it('onboards through the gateway and follows the association as it changes in ARM', async () => {
    const home = await agent();
    const gatewayId = settings['gateway-id']!;
    const gatewayUrl = settings['gateway-url']!;
    const r = await azcmagent([
      'connect',
      '--home',
      home,
      '--config',
      gatewayConfig,
      '--resource-name',
      'e2e-gw',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`INFO Arc gateway: ${gatewayUrl}`);
    // connect waited until the Arc Proxy had taken the gateway up, so onboarding went through it.
    expect(r.stderr).not.toContain('does not report the gateway');
    // cloudconfig.json holds what the cloud says: this gateway and the endpoints it serves.
    expect(cloudConfig(home).gateway).toMatchObject({ id: gatewayId, url: gatewayUrl });
    expect(cloudConfig(home).gateway?.endpoints).toEqual(
      expect.arrayContaining(['management.arc-local.test', '*.his.arc-local.test']),
    );
    expect((await show(home))['gatewayUrl']).toBe(gatewayUrl);

    // Heartbeats succeed, and everything went through the gateway.
    await eventually(async () => (await show(home))['lastHeartbeat'] !== '', 15_000);
    expect(await stats(home)).toEqual(
      expect.arrayContaining([
        'azcmagent login.arc-local.test:443 gateway',
        'azcmagent management.arc-local.test:443 gateway',
        'azcmagent gbl.his.arc-local.test:443 gateway',
        'himds gbl.his.arc-local.test:443 gateway',
      ]),
    );

    // The association removed through ARM: the next heartbeat says so, and the agent goes without.
    expect((await associate('e2e-gw', null)).status).toBe(200);
    await eventually(() => cloudConfig(home).gateway === null, 20_000);
    await eventually(async () => (await show(home))['gatewayUrl'] === '', 5_000);
    const himdsLog = () => readFileSync(join(home, 'log', 'himds.log'), 'utf8');
    await eventually(() => himdsLog().includes(`gateway association changed: ${gatewayUrl} -> none`));

    // ... and made again: back through the gateway.
    expect((await associate('e2e-gw', gatewayId)).status).toBe(200);
    await eventually(() => cloudConfig(home).gateway?.id === gatewayId, 20_000);
    await eventually(() => himdsLog().includes(`gateway association changed: none -> ${gatewayUrl}`));
    await eventually(async () => (await proxyHealth(home))['gateway'] === gatewayUrl, 5_000);
    const beat = (await show(home))['lastHeartbeat']!;
    await eventually(async () => (await show(home))['lastHeartbeat']! > beat, 15_000);

    // connection.type direct: new connections go direct although the association stands.
    expect((await azcmagent(['config', 'set', 'connection.type', 'direct', '--home', home])).code).toBe(0);
    // The Arc Proxy applies localconfig.json when it sees it change.
    await eventually(async () => (await proxyHealth(home))['gateway'] === null, 5_000);
    const gone = await azcmagent(['disconnect', '--home', home, '--config', gatewayConfig]);
    expect(gone.code, gone.stderr).toBe(0);
    expect(await stats(home)).toContain('azcmagent management.arc-local.test:443 direct');
    // disconnect leaves no gateway behind.
    expect(existsSync(join(home, 'cloudconfig.json'))).toBe(false);
  });

  it('looks the gateway up in ARM when no --gateway-url is given', async () => {
    const home = await agent();
    const withoutUrl = join(tempDir(), 'connect.json');
    const { ['gateway-url']: url, ...rest } = settings;
    writeFileSync(withoutUrl, JSON.stringify(rest));
    const r = await azcmagent([
      'connect',
      '--home',
      home,
      '--config',
      withoutUrl,
      '--resource-name',
      'e2e-gw-lookup',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(cloudConfig(home).gateway?.url).toBe(url);
  });

  it('refuses with 27 when connection.type is direct, and says what to run', async () => {
    const home = await agent();
    expect((await azcmagent(['config', 'set', 'connection.type', 'direct', '--home', home])).code).toBe(0);
    const r = await azcmagent([
      'connect',
      '--home',
      home,
      '--config',
      gatewayConfig,
      '--resource-name',
      'e2e-gw-direct',
    ]);
    expect(r.code).toBe(27);
    expect(r.stderr).toContain('CONFIG_CONFLICT');
    expect(r.stderr).toContain('azcmagent config set connection.type default');
    expect(existsSync(join(home, 'cloudconfig.json'))).toBe(false);
  });

  it('rolls back when the association fails: no resource, no identity, no gateway left', async () => {
    const home = await agent();
    const wrong = join(tempDir(), 'connect.json');
    writeFileSync(
      wrong,
      JSON.stringify({
        ...settings,
        'gateway-id': settings['gateway-id']!.replace(/gateways\/.*$/, 'gateways/nope'),
      }),
    );
    const r = await azcmagent([
      'connect',
      '--home',
      home,
      '--config',
      wrong,
      '--resource-name',
      'e2e-gw-wrong',
    ]);
    expect(r.code, r.stderr).toBe(23);
    expect(r.stderr).toContain('GATEWAY_ID_INVALID');
    expect(existsSync(join(home, 'cloudconfig.json'))).toBe(false);
    expect(existsSync(join(home, 'agentconfig.json'))).toBe(false);
    expect((await arm('GET', machineId('e2e-gw-wrong'), undefined, '2024-07-10')).status).toBe(404);
    // The name is free again: a retry with the right gateway works.
    const retry = await azcmagent([
      'connect',
      '--home',
      home,
      '--config',
      gatewayConfig,
      '--resource-name',
      'e2e-gw-wrong',
    ]);
    expect(retry.code, retry.stderr).toBe(0);
  });
});
