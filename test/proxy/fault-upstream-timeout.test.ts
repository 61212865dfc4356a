// Peers that accept TCP and never answer: an origin (limits.responseTimeoutMs) and an enterprise
// proxy (limits.connectTimeoutMs for its CONNECT answer) both end in 504 ARCPROXY_UPSTREAM_TIMEOUT.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { eventually, rawExchange, startProxy, type TestProxy } from '../helpers/world.ts';
import {
  expectRefusal,
  logLinesWith,
  meterErrors,
  startSilentServer,
  type SilentServer,
} from '../helpers/faults.ts';

const CODE = 'ARCPROXY_UPSTREAM_TIMEOUT';
// A destination the enterprise proxy would carry: in the AzureCloud allow-list, not loopback.
const REMOTE = 'management.azure.com:443';

describe('destination or enterprise proxy does not answer in time', () => {
  let world: TestProxy | undefined;
  let silent: SilentServer;

  beforeEach(async () => {
    silent = await startSilentServer();
  });
  afterEach(async () => {
    await world?.close();
    await silent.close();
  });

  test('an absolute-form GET to an origin that never answers gets 504', async () => {
    world = await startProxy({ limits: { responseTimeoutMs: 300 } });
    const dest = `127.0.0.1:${silent.port}`;
    const raw = await rawExchange(world.port, `GET http://${dest}/slow HTTP/1.1\r\nHost: ${dest}\r\n\r\n`);
    expectRefusal(raw, 504, CODE);
    // The request did reach the origin: the proxy gave up waiting for the answer.
    expect(silent.received()[0]).toMatch(/^GET \/slow HTTP\/1\.1\r\n/);
    expect(logLinesWith(world.lines(), CODE)).toContainEqual(expect.objectContaining({ destination: dest }));
    expect(meterErrors(world.proxy, CODE)).toBe(1);
    await eventually(() => world!.proxy.openConnections === 0);
  });

  test('CONNECT through an enterprise proxy that never answers gets 504', async () => {
    world = await startProxy({
      config: { 'proxy.url': `http://127.0.0.1:${silent.port}` },
      limits: { connectTimeoutMs: 300 },
    });
    const raw = await rawExchange(world.port, `CONNECT ${REMOTE} HTTP/1.1\r\nHost: ${REMOTE}\r\n\r\n`);
    const { message } = expectRefusal(raw, 504, CODE);
    expect(message).toContain(`127.0.0.1:${silent.port}`);
    expect(silent.received()[0]).toMatch(new RegExp(`^CONNECT ${REMOTE} HTTP/1\\.1\\r\\n`));
    expect(logLinesWith(world.lines(), CODE)).toContainEqual(
      expect.objectContaining({ destination: REMOTE, route: 'upstream' }),
    );
    const entry = world.proxy.meter.snapshot().entries.find((e) => e.destination === REMOTE);
    expect(entry).toMatchObject({ route: 'upstream', tunnels: 0, errors: { [CODE]: 1 } });
    expect(world.proxy.openTunnels).toBe(0);
  });

  test('an absolute-form GET through an enterprise proxy that never answers gets 504', async () => {
    world = await startProxy({
      config: { 'proxy.url': `http://127.0.0.1:${silent.port}` },
      limits: { responseTimeoutMs: 300 },
    });
    const raw = await rawExchange(
      world.port,
      'GET http://management.azure.com/x HTTP/1.1\r\nHost: management.azure.com\r\n\r\n',
    );
    expectRefusal(raw, 504, CODE);
    expect(silent.received()[0]).toMatch(/^GET http:\/\/management\.azure\.com\/x HTTP\/1\.1\r\n/);
    expect(meterErrors(world.proxy, CODE)).toBe(1);
  });
});
