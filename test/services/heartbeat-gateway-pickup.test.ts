// The running heartbeat picks up the gateway association the cloud reports: a real Arc Proxy on
// loopback, a small identity service (HTTPS, certificate from a CA made now) whose heartbeat answer
// the test changes, and cloudconfig.json / agentconfig.json / the log as a user would look at them.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  readAgentState,
  readCloudConfig,
  resolveHome,
  writeAgentState,
  writeCloudConfig,
  type CloudProfile,
  type GatewayConfig,
  type HomeLayout,
} from '../../core/index.ts';
import {
  identityStore,
  saveMachineIdentity,
  startHeartbeat,
  type Heartbeat,
} from '../../services/himds/index.ts';
import { changeCloudConfig } from '../../services/himds/cloud-config-store.ts';
import { decideGatewayPickup } from '../../services/himds/gateway-pickup.ts';
import { askProxyRefusal, type ProxyRefusal } from '../../services/himds/proxy-refusal.ts';
import {
  closeServer,
  eventually,
  makePki,
  memoryLogger,
  startEcho,
  startProxy,
  tempDir,
  type TestProxy,
} from '../helpers/world.ts';

const GATEWAY: GatewayConfig = {
  id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/gateways/gw1',
  url: 'https://1111.gw.arc-local.test',
  endpoints: ['localhost'],
};
const RESOURCE_ID = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m1';

interface World {
  home: HomeLayout;
  proxy: TestProxy;
  server: https.Server;
  /** What the identity service answers to a heartbeat now: a status and a body. */
  answer: { status: number; body: Record<string, unknown> };
  beats: () => number;
  lines: () => string;
  heartbeat: Heartbeat;
  refusals: string[];
}

let world: World | undefined;
afterEach(async () => {
  await world?.heartbeat.stop();
  await world?.proxy.close();
  if (world) await closeServer(world.server);
  world = undefined;
});

async function start(refusal?: ProxyRefusal): Promise<World> {
  const pki = makePki();
  const key = readFileSync(pki.keyFile, 'utf8');
  const cert = readFileSync(pki.certFile, 'utf8');
  let beats = 0;
  const answer = { status: 200, body: { status: 'Connected' } as Record<string, unknown> };
  const server = https.createServer({ key, cert }, (req, res) => {
    if (req.url === '/v1/machines/heartbeat') beats++;
    req.resume();
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `https://localhost:${(server.address() as AddressInfo).port}`;
  const home = resolveHome(tempDir(), {});
  const cloud: CloudProfile = {
    name: 'Fake',
    endpoints: {
      arm: base,
      login: base,
      hisGlobal: base,
      guestConfiguration: '',
      notifications: '',
      gatewayDomain: 'gw.arc-local.test',
    },
    allow: [{ host: 'localhost', port: 443, purpose: 'all of it' }],
    caFile: pki.caFile,
  };
  const profile = join(home.root, 'profile.json');
  writeFileSync(profile, JSON.stringify(cloud));
  const proxy = await startProxy({ cloud });
  // The machine certificate: any will do, this identity service does not check it.
  await saveMachineIdentity(home, { keyPem: key, certPem: cert, caPem: pki.ca });
  await writeAgentState(home.agentConfig, {
    resourceName: 'm1',
    resourceGroup: 'rg',
    subscriptionId: 's',
    tenantId: 't',
    location: 'eastus',
    cloud: profile,
    resourceId: RESOURCE_ID,
    status: 'Connected',
  });
  const { log, lines } = memoryLogger('info');
  const refusals: string[] = [];
  const heartbeat = startHeartbeat({
    home,
    log,
    proxyUrl: proxy.url,
    agentVersion: 'test',
    identity: identityStore(home),
    newKeyPair: () => Promise.reject(new Error('no renewal expected')),
    metadata: () => Promise.resolve({}),
    fingerprint: () => Promise.resolve('fp'),
    // Short beats, real time: the test waits for what it expects to see.
    intervalMs: 40,
    askRefusal: (target) => {
      refusals.push(target);
      return Promise.resolve(refusal);
    },
  });
  world = { home, proxy, server, answer, beats: () => beats, lines, heartbeat, refusals };
  return world;
}

const gatewayNow = async (home: HomeLayout) => (await readCloudConfig(home.cloudConfig)).gateway;
const count = (text: string, needle: string) => text.split(needle).length - 1;

describe('heartbeat: gateway pick-up', () => {
  it('writes an association made later, once, and a removal, with a log line each', async () => {
    const w = await start();
    await eventually(() => w.beats() >= 2);
    expect((await readCloudConfig(w.home.cloudConfig)).gateway).toBeNull();

    w.answer.body = { status: 'Connected', gateway: GATEWAY };
    await eventually(async () => (await gatewayNow(w.home))?.url === GATEWAY.url);
    expect(await readCloudConfig(w.home.cloudConfig)).toMatchObject({
      gateway: GATEWAY,
      updatedAt: expect.any(String),
    });
    await eventually(() => w.lines().includes(`gateway association changed: none -> ${GATEWAY.url}`));
    await eventually(async () => (await readAgentState(w.home.agentConfig))?.gatewayUrl === GATEWAY.url);

    // The same answer again and again: the file is left alone (the Arc Proxy reloads on each write).
    const written = statSync(w.home.cloudConfig).mtimeMs;
    const seen = w.beats();
    await eventually(() => w.beats() >= seen + 5);
    expect(statSync(w.home.cloudConfig).mtimeMs).toBe(written);
    expect(count(w.lines(), 'gateway association changed')).toBe(1);

    w.answer.body = { status: 'Connected', gateway: null };
    await eventually(async () => (await gatewayNow(w.home)) === null);
    await eventually(() => w.lines().includes(`gateway association changed: ${GATEWAY.url} -> none`));
    await eventually(async () => (await readAgentState(w.home.agentConfig))?.gatewayUrl === undefined);
  });

  it('leaves cloudconfig.json alone when the cloud says nothing about gateways', async () => {
    const w = await start();
    await writeCloudConfig(w.home.cloudConfig, { gateway: GATEWAY });
    const seen = w.beats();
    await eventually(() => w.beats() >= seen + 3);
    expect(await gatewayNow(w.home)).toEqual(GATEWAY);
    expect(w.lines()).not.toContain('gateway association changed');
  });

  it('goes without a gateway that refuses the machine, and back to it while the cloud stays unreachable', async () => {
    const w = await start({
      code: 'GATEWAY_CLIENT_CERT_REFUSED',
      message: 'MachineNotAssociated',
    });
    await writeCloudConfig(w.home.cloudConfig, { gateway: GATEWAY });
    w.answer.status = 502;
    w.answer.body = { error: { code: 'BadGateway', message: 'down' } };
    await eventually(() =>
      w.lines().includes(`${GATEWAY.url} -> none (the gateway refused this machine: MachineNotAssociated`),
    );
    expect(w.refusals[0]).toMatch(/^localhost:\d+$/);
    // Still failing without it: the gateway is tried again (the association may be back).
    await eventually(() =>
      w.lines().includes(`none -> ${GATEWAY.url} (the cloud cannot be reached without the gateway`),
    );
    // The cloud answers again, and says the association is gone: that is final.
    w.answer.status = 200;
    w.answer.body = { status: 'Connected', gateway: null };
    await eventually(async () => (await readAgentState(w.home.agentConfig))?.errorCode === undefined);
    await eventually(async () => (await gatewayNow(w.home)) === null);
  });

  it('asks nothing and changes nothing on a failure without a gateway', async () => {
    const w = await start({ code: 'GATEWAY_CLIENT_CERT_REFUSED', message: 'x' });
    w.answer.status = 503;
    w.answer.body = {};
    await eventually(
      async () => (await readAgentState(w.home.agentConfig))?.errorCode === 'CLOUD_REQUEST_FAILED',
    );
    const seen = w.beats();
    await eventually(() => w.beats() >= seen + 2);
    expect(w.refusals).toEqual([]);
    expect(await gatewayNow(w.home)).toBeNull();
  });
});

describe('cloudconfig.json changes', () => {
  it('are made only while agentconfig.json names the machine they are for', async () => {
    const home = resolveHome(tempDir(), {});
    const decide = () => decideGatewayPickup({ gateway: null }, GATEWAY, new Date());
    expect((await changeCloudConfig(home, RESOURCE_ID, decide)).write).toBe(false);
    await writeAgentState(home.agentConfig, {
      resourceName: 'm2',
      resourceGroup: 'rg',
      subscriptionId: 's',
      tenantId: 't',
      location: 'eastus',
      cloud: 'AzureCloud',
      resourceId: RESOURCE_ID.replace('m1', 'm2'),
    });
    expect((await changeCloudConfig(home, RESOURCE_ID, decide)).write).toBe(false);
    expect((await changeCloudConfig(home, RESOURCE_ID.replace('m1', 'm2'), decide)).write).toBe(true);
    expect(await gatewayNow(home)).toEqual(GATEWAY);
  });
});

describe("the Arc Proxy's reason for a refused tunnel", () => {
  it('is read from its answer to a CONNECT of our own: the stable code and the message', async () => {
    const enforcing = await startProxy({ config: { 'arcproxy.allowlist.mode': 'enforce' } });
    const auditing = await startProxy();
    const echo = await startEcho();
    try {
      const refused = await askProxyRefusal(enforcing.url, 'himds', 'denied.example.test:443');
      expect(refused).toMatchObject({ code: 'ARCPROXY_DENIED' });
      expect(refused?.message).toContain('denied.example.test');
      // A tunnel that opens is no refusal.
      expect(await askProxyRefusal(auditing.url, 'himds', `127.0.0.1:${echo.port}`)).toBeUndefined();
    } finally {
      await enforcing.close();
      await auditing.close();
      await closeServer(echo.server);
    }
  });
});
