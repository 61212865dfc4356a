// The positive path: a registered machine whose settings/default names this gateway presents its
// certificate and gets a tunnel. curl does what the agent does (CONNECT inside TLS to the gateway,
// with the machine certificate, then end-to-end TLS to the target); a raw client shows that the
// relay carries bytes sent right after the CONNECT, and a half-close, both ways.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, curl, eventually, listen } from '../helpers/world.ts';
import { associate, curlThroughGateway, gatewayConnect, machineFiles } from './gateway-helpers.ts';
import { createAndRegister, startTestCloud, type Registered, type TestCloud } from './helpers.ts';

let t: TestCloud;
let m: Registered;
let counter: net.Server;
beforeAll(async () => {
  // Reads until the client's FIN, then answers with what it got and closes: only a relayed
  // half-close lets it answer at all.
  counter = net.createServer({ allowHalfOpen: true }, (s) => {
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.on('end', () => s.end(`got ${got.length}: ${got}`));
  });
  const port = await listen(counter);
  t = await startTestCloud({
    gatewayAllow: ['counter.test:7000'],
    gatewayResolve: { 'counter.test': `127.0.0.1:${port}` },
  });
  m = await createAndRegister(t, 'tunnel-1');
  const a = await associate(t, m.id, t.cloud.gateway.id);
  expect(a.status).toBe(200);
});
afterAll(async () => {
  await t.close();
  await closeServer(counter);
});

describe('a tunnel for an associated machine', () => {
  it('carries curl through the gateway with the machine certificate to a served target', async () => {
    const r = await curl(
      curlThroughGateway(
        t.cloud,
        'https://agentserviceapi.guestconfiguration.arc-local.test/',
        machineFiles(m),
      ),
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ service: 'arc-local-cloud' });
  });

  it('relays bytes sent with the CONNECT and a half-close both ways', async () => {
    const a = await gatewayConnect(t.cloud, 'counter.test:7000', {
      cert: m.cert,
      key: m.keys.privateKeyPem,
      request: 'CONNECT counter.test:7000 HTTP/1.1\r\nHost: counter.test:7000\r\n\r\nearly ',
    });
    expect(a.status).toBe(200);
    expect(a.head).toBe('HTTP/1.1 200 Connection Established');
    a.socket.write('late');
    a.socket.end();
    let back = '';
    a.socket.on('data', (d: Buffer) => (back += d.toString()));
    await new Promise((resolve) => a.socket.once('end', resolve));
    expect(back).toBe('got 10: early late');
  });

  it('logs the tunnel with the machine, the target and the payload both ways', async () => {
    const closed = () =>
      t
        .logLines()
        .split('\n')
        .filter((l) => l.includes('gateway tunnel closed') && l.includes('counter.test'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)[0];
    // The gateway logs once both of its sockets have closed, a moment after the client saw the end.
    await eventually(() => closed() !== undefined);
    expect(closed()).toMatchObject({ machine: m.id, target: 'counter.test:7000', sent: 10, received: 18 });
  });
});
