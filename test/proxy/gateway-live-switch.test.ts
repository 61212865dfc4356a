// The gateway route changes while the Arc Proxy runs, without a restart and without cutting open
// tunnels: connection.type direct switches new connections away from the gateway while a tunnel
// through it keeps working; cloudconfig.json naming a gateway (the cloud's association) switches
// new connections to it; the machine certificate written by connect is picked up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, expectRefusal } from '../helpers/faults.ts';
import { closeServer, eventually, rawExchange, startEcho } from '../helpers/world.ts';
import {
  startAgentProxy,
  startGatewayWorld,
  type AgentProxy,
  type GatewayWorld,
} from '../gateway-client/world.ts';
import type { ClientIdentity } from '../../gateway-client/index.ts';

const ECHO = 'echo.test';
let w: GatewayWorld;
let echo: Awaited<ReturnType<typeof startEcho>>;
let dest: string;
let identity: ClientIdentity;

beforeAll(async () => {
  echo = await startEcho();
  dest = `${ECHO}:${echo.port}`;
  w = await startGatewayWorld({ [ECHO]: echo.port });
  const m = await w.machine('live-switch');
  await w.associate(m, w.gateway.id);
  identity = m.identity;
});
afterAll(async () => {
  await w?.close();
  await closeServer(echo.server);
});

/** The proxy finds echo.test itself too, so that the direct route works after a switch. */
const proxyFor = (opts: Parameters<typeof startAgentProxy>[1] = {}) =>
  startAgentProxy(w, { resolve: { [ECHO]: `127.0.0.1:${echo.port}` }, ...opts });

async function echoes(client: RawClient, text: string): Promise<void> {
  client.write(text);
  expect((await client.readBytes(Buffer.byteLength(text))).toString()).toBe(text);
}

const routes = (p: AgentProxy) =>
  p.service.proxy.meter.snapshot().entries.map((e) => ({ route: e.route, tunnels: e.tunnels }));

describe('switching live', () => {
  it('connection.type direct: an open gateway tunnel keeps working, new connections go direct', async () => {
    const p = await proxyFor({ identity });
    try {
      const old = await RawClient.tunnel(p.port, dest);
      expect(old.head).toMatch(/^HTTP\/1\.1 200 /);
      await echoes(old.client, 'through the gateway');
      await p.setConfig({ 'connection.type': 'direct' });
      await eventually(async () => (await p.health()).gateway === null);
      const fresh = await RawClient.tunnel(p.port, dest);
      expect(fresh.head).toMatch(/^HTTP\/1\.1 200 /);
      await echoes(fresh.client, 'direct now');
      // The tunnel opened before the switch still carries bytes, both ways.
      await echoes(old.client, 'still through the gateway');
      old.client.destroy();
      fresh.client.destroy();
      await eventually(() => routes(p).length === 2);
      expect(routes(p)).toEqual(
        expect.arrayContaining([
          { route: 'gateway', tunnels: 1 },
          { route: 'direct', tunnels: 1 },
        ]),
      );
      // And back: default uses the gateway again.
      await p.setConfig({ 'connection.type': 'default' });
      await eventually(async () => (await p.health()).gateway === w.gateway.url);
    } finally {
      await p.close();
    }
  });

  it('a gateway appearing in cloudconfig.json (the association picked up) applies to new connections', async () => {
    const p = await proxyFor({ identity, cloudConfig: { gateway: null } });
    try {
      expect((await p.health()).gateway).toBeNull();
      const before = await RawClient.tunnel(p.port, dest);
      await echoes(before.client, 'direct');
      await p.setCloudConfig(w.cloudConfig());
      await eventually(async () => (await p.health()).gateway === w.gateway.url);
      const after = await RawClient.tunnel(p.port, dest);
      await echoes(after.client, 'gateway');
      await echoes(before.client, 'still direct');
      before.client.destroy();
      after.client.destroy();
      await eventually(() => routes(p).length === 2);
      expect(routes(p)).toEqual(
        expect.arrayContaining([
          { route: 'direct', tunnels: 1 },
          { route: 'gateway', tunnels: 1 },
        ]),
      );
    } finally {
      await p.close();
    }
  });

  it('before connect the gateway refuses what needs a certificate; the certificate connect writes is used without a restart', async () => {
    const p = await proxyFor();
    try {
      const raw = await rawExchange(p.port, `CONNECT ${dest} HTTP/1.1\r\nHost: ${dest}\r\n\r\n`);
      const { message } = expectRefusal(raw, 502, 'GATEWAY_CLIENT_CERT_REFUSED');
      expect(message).toContain('ClientCertificateRequired');
      await p.saveIdentity(identity);
      await eventually(() => p.lines().includes('machine certificate loaded for the Arc gateway'));
      const { client, head } = await RawClient.tunnel(p.port, dest);
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      await echoes(client, 'connected now');
      client.destroy();
    } finally {
      await p.close();
    }
  });
});
