// The Arc Proxy through the local cloud's real Arc gateway, as users and services reach it: curl
// with a CONNECT tunnel (-p -x) and undici's ProxyAgent with absolute-form requests, with
// connection.type default and a cloudconfig.json naming the gateway. The meter counts route
// `gateway` with the exact payload bytes; /health names the gateway; an enterprise proxy in front
// of the gateway sees only the CONNECT to the gateway.
import { ProxyAgent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnterpriseProxy } from '../helpers/enterprise-proxy.ts';
import { RawClient } from '../helpers/faults.ts';
import { closeServer, curl, eventually, startEcho, startOrigin } from '../helpers/world.ts';
import {
  countBytes,
  startAgentProxy,
  startGatewayWorld,
  type AgentProxy,
  type GatewayWorld,
} from '../gateway-client/world.ts';
import type { ClientIdentity } from '../../gateway-client/index.ts';

const ORIGIN = 'origin.test';
let w: GatewayWorld;
let origin: Awaited<ReturnType<typeof startOrigin>>;
let bytes: ReturnType<typeof countBytes>;
let identity: ClientIdentity;
let echo: Awaited<ReturnType<typeof startEcho>>;

beforeAll(async () => {
  origin = await startOrigin();
  echo = await startEcho();
  bytes = countBytes(origin.server);
  w = await startGatewayWorld({ [ORIGIN]: origin.port, 'echo.test': echo.port });
  const m = await w.machine('route-gateway');
  await w.associate(m, w.gateway.id);
  identity = m.identity;
});
afterAll(async () => {
  await w?.close();
  await closeServer(origin.server);
  await closeServer(echo.server);
});

const entry = (p: AgentProxy, route: string, destination = `${ORIGIN}:${origin.port}`) =>
  p.service.proxy.meter.snapshot().entries.find((e) => e.route === route && e.destination === destination);

describe('the Arc Proxy in gateway mode (connection.type default, cloudconfig.json names a gateway)', () => {
  let p: AgentProxy;
  beforeAll(async () => {
    p = await startAgentProxy(w, { identity });
  });
  afterAll(() => p.close());

  it('reports the gateway in use on /health', async () => {
    expect((await p.health()).gateway).toBe(w.gateway.url);
  });

  it('carries a curl CONNECT tunnel through the gateway, metered as route gateway with the exact bytes', async () => {
    const before = bytes.connections().length;
    const r = await curl([
      '-p',
      '-x',
      p.url('extd'),
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{size_download}',
      `http://${ORIGIN}:${origin.port}/bytes/12345`,
    ]);
    expect(r.stdout, r.stderr).toBe('200 12345');
    await eventually(() => entry(p, 'gateway')?.tunnels === 1 && bytes.connections().length > before);
    const seen = bytes.connections().at(-1)!;
    const e = entry(p, 'gateway')!;
    expect(e).toMatchObject({ client: 'extd', tunnels: 1, requests: 0, errors: {} });
    // What the client put into the tunnel is what the origin read, and back.
    expect(e.bytesSent).toBe(seen.read);
    expect(e.bytesReceived).toBe(seen.written);
    expect(e.bytesReceived).toBeGreaterThan(12345);
    expect(entry(p, 'direct')).toBeUndefined();
  });

  it('forwards undici ProxyAgent requests through pooled gateway tunnels, metered as route gateway', async () => {
    // proxyTunnel false: http:// requests go in absolute form, to forward.ts (undici's default is CONNECT).
    const agent = new ProxyAgent({
      uri: p.url(),
      token: `Basic ${Buffer.from('gcad:').toString('base64')}`,
      proxyTunnel: false,
    });
    try {
      const before = bytes.connections().length;
      for (const n of [1000, 2000]) {
        const res = await fetch(`http://${ORIGIN}:${origin.port}/bytes/${n}`, { dispatcher: agent });
        expect(res.status).toBe(200);
        expect((await res.arrayBuffer()).byteLength).toBe(n);
      }
      const res = await fetch(`http://${ORIGIN}:${origin.port}/echo`, {
        method: 'POST',
        body: 'x'.repeat(777),
        dispatcher: agent,
      });
      expect(await res.json()).toEqual({ received: 777 });
      const e = p.service.proxy.meter.snapshot().entries.find((x) => x.client === 'gcad')!;
      expect(e).toMatchObject({
        route: 'gateway',
        destination: `${ORIGIN}:${origin.port}`,
        requests: 3,
        tunnels: 0,
        bytesSent: 777,
      });
      expect(e.bytesReceived).toBe(1000 + 2000 + JSON.stringify({ received: 777 }).length);
      // Keep-alive: the three requests went through one tunnel, so the origin saw one connection, still open.
      expect(bytes.connections().length).toBe(before);
    } finally {
      await agent.close();
    }
  });
});

describe('a half-close through the gateway', () => {
  it("travels both ways: the client's FIN reaches the destination, and the destination's comes back after its data", async () => {
    const p = await startAgentProxy(w, { identity });
    try {
      const { client, head } = await RawClient.tunnel(p.port, `echo.test:${echo.port}`);
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      client.write('before the FIN');
      client.socket.end();
      expect(await client.waitEnd()).toContain('before the FIN');
      client.destroy();
    } finally {
      await p.close();
    }
  });
});

describe('an enterprise proxy in front of the gateway (proxy.url)', () => {
  it('sees only the CONNECT to the gateway; the payload goes through the gateway', async () => {
    const gatewayPort = Number(w.resolve[w.gateway.host]!.split(':').pop());
    const corp = await startEnterpriseProxy({ resolve: { [w.gateway.host]: gatewayPort } });
    const p = await startAgentProxy(w, { identity, config: { 'proxy.url': corp.url } });
    try {
      const r = await curl([
        '-p',
        '-x',
        p.url(),
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `http://${ORIGIN}:${origin.port}/bytes/10`,
      ]);
      expect(r.stdout, r.stderr).toBe('200');
      const agent = new ProxyAgent({ uri: p.url(), proxyTunnel: false });
      const res = await fetch(`http://${ORIGIN}:${origin.port}/bytes/20`, { dispatcher: agent });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      await agent.close();
      expect(new Set(corp.asked)).toEqual(new Set([`CONNECT ${w.gateway.host}:443`]));
      const routes = () =>
        p.service.proxy.meter.snapshot().entries.map((e) => [e.route, e.tunnels, e.requests]);
      await eventually(() => routes().length === 2);
      expect(routes()).toEqual(
        expect.arrayContaining([
          ['gateway', 1, 0],
          ['gateway', 0, 1],
        ]),
      );
    } finally {
      await p.close();
      await corp.close();
    }
  });
});
