// The bin with its gateway flags, run twice on the same --data: the gateway resource keeps its id
// and guid (so its URL), a machine's association survives, and the new gateway port is written to
// profile.json. Bad gateway flags exit with ARGUMENT_INVALID (23).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { curl, execFileP } from '../helpers/world.ts';
import { CLOUD_BIN, startCloudProcess, type CloudProcess } from './bin.ts';
import { GATEWAY_API } from './gateway-helpers.ts';
import { httpsCall, tempDir } from './helpers.ts';

const running: CloudProcess[] = [];
afterAll(async () => {
  for (const p of running) await p.stop('SIGKILL');
});

async function start(dir: string): Promise<{ p: CloudProcess; url: string; address: string; id: string }> {
  const p = await startCloudProcess([
    '--data',
    dir,
    '--port',
    '0',
    '--gateway-port',
    '0',
    '--gateway-allow',
    'a.test:1,*.b.test',
  ]);
  running.push(p);
  const m = /Arc gateway (\S+) on (\S+) \(id (\S+)\)/.exec(p.stdout());
  expect(m).not.toBeNull();
  return { p, url: m![1]!, address: m![2]!, id: m![3]! };
}

const probe = async (url: string, address: string, ca: string) => {
  const host = new URL(url).hostname;
  const [ip, port] = [address.replace(/:\d+$/, ''), address.split(':').pop()];
  const r = await curl(['--cacert', ca, '--resolve', `${host}:${port}:${ip}`, `https://${host}:${port}/`]);
  return JSON.parse(r.stdout) as { service: string; id: string };
};

describe('arc-local-cloud restarted with its gateway', () => {
  it('keeps the gateway id, its URL and the machines’ associations', async () => {
    const dir = tempDir();
    const first = await start(dir);
    const ca = join(dir, 'ca.pem');
    const caPem = readFileSync(ca, 'utf8');
    const connectGateway = JSON.parse(readFileSync(join(dir, 'connect-gateway.json'), 'utf8'));
    expect(connectGateway).toMatchObject({ 'gateway-id': first.id, 'gateway-url': first.url });
    expect(await probe(first.url, first.address, ca)).toEqual({ service: 'arc-local-gateway', id: first.id });

    const token = await httpsCall(first.p.port, caPem, `/${connectGateway['tenant-id']}/oauth2/v2.0/token`, {
      form: {
        grant_type: 'client_credentials',
        client_id: connectGateway['service-principal-id'],
        client_secret: connectGateway['service-principal-secret'],
        scope: 'https://management.arc-local.test/.default',
      },
    });
    const auth = { authorization: `Bearer ${token.json.access_token}` };
    const machine = `/subscriptions/${connectGateway['subscription-id']}/resourceGroups/rg1/providers/Microsoft.HybridCompute/machines/kept`;
    expect(
      (
        await httpsCall(first.p.port, caPem, `${machine}?api-version=2024-07-10`, {
          method: 'PUT',
          headers: auth,
          body: { location: 'eastus' },
        })
      ).status,
    ).toBe(201);
    const settings = `${machine}/providers/Microsoft.HybridCompute/settings/default?api-version=${GATEWAY_API}`;
    const body = { properties: { gatewayProperties: { gatewayResourceId: first.id } } };
    expect(
      (await httpsCall(first.p.port, caPem, settings, { method: 'PUT', headers: auth, body })).status,
    ).toBe(200);
    expect(await first.p.stop('SIGTERM')).toBe(0);

    const second = await start(dir);
    expect(second.id).toBe(first.id);
    expect(second.url).toBe(first.url);
    expect(JSON.parse(readFileSync(join(dir, 'connect-gateway.json'), 'utf8'))).toEqual(connectGateway);
    const profile = JSON.parse(readFileSync(join(dir, 'profile.json'), 'utf8'));
    expect(profile.resolve[new URL(second.url).hostname]).toBe(second.address);
    expect(await probe(second.url, second.address, ca)).toEqual({
      service: 'arc-local-gateway',
      id: first.id,
    });
    const kept = await httpsCall(second.p.port, caPem, settings, { headers: auth });
    expect(kept.json.properties.gatewayProperties.gatewayResourceId).toBe(first.id);
    expect(await second.p.stop('SIGINT')).toBe(0);
  });

  it.each([
    [['--gateway-allow', 'not a pattern'], /gatewayAllow not a pattern/],
    [['--gateway-port', '70000'], /gatewayPort 70000/],
    [
      ['--gateway-resolve', 'origin.lab.test:8080'],
      /--gateway-resolve origin\.lab\.test:8080: expected host=address:port/,
    ],
  ])('refuses %j with ARGUMENT_INVALID', async (flags, message) => {
    const r = await execFileP(process.execPath, [
      CLOUD_BIN,
      '--data',
      tempDir(),
      '--port',
      '0',
      ...flags,
    ]).catch((e: { code: number; stderr: string }) => e);
    expect('code' in r && r.code).toBe(23);
    expect((r as { stderr: string }).stderr).toMatch(message);
    expect((r as { stderr: string }).stderr).toContain('To fix: see arc-local-cloud --help');
    expect((r as { stderr: string }).stderr).not.toMatch(/^\s+at /m); // no stack trace
  });
});
