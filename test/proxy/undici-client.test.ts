// The agent's own outbound client (core/http-client.ts: undici ProxyAgent) through the Arc Proxy, to
// a TLS origin; the proxy knows the caller by the client id in its proxy user name.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createOutboundDispatcher } from '../../core/index.ts';
import { closeServer, listen, makePki, startProxy, type Pki, type TestProxy } from '../helpers/world.ts';

let pki: Pki;
let origin: https.Server;
let port: number;
let p: TestProxy;

beforeAll(async () => {
  pki = makePki();
  origin = https.createServer(
    { key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) },
    (req, res) => res.end('ok'),
  );
  port = await listen(origin);
  p = await startProxy();
});
afterAll(async () => {
  await p.close();
  await closeServer(origin);
});

it('undici ProxyAgent reaches a TLS origin through the Arc Proxy, metered as its client id', async () => {
  const dispatcher = await createOutboundDispatcher({ proxyUrl: p.url, clientId: 'himds', ca: pki.ca });
  for (let i = 0; i < 3; i++) {
    const res = await request(`https://localhost:${port}/token`, { dispatcher });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('ok');
  }
  await dispatcher.close();
  const entry = await waitForEntry(p, 'himds');
  expect(entry.destination).toBe(`localhost:${port}`);
  expect(entry.route).toBe('direct');
  expect(entry.tunnels).toBeGreaterThanOrEqual(1);
  expect(entry.bytesReceived).toBeGreaterThan(0);
});

async function waitForEntry(proxy: TestProxy, client: string) {
  for (let i = 0; i < 100; i++) {
    const e = proxy.proxy.meter.snapshot().entries.find((x) => x.client === client);
    if (e) return e;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no meter entry for ${client}`);
}
