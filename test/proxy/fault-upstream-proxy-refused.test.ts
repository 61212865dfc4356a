// An enterprise proxy that refuses the tunnel (403 to CONNECT) or is not listening at all:
// 502 ARCPROXY_UPSTREAM_PROXY_REFUSED and 502 ARCPROXY_UPSTREAM_PROXY_UNREACHABLE.
import { afterEach, describe, expect, test } from 'vitest';
import { rawExchange, startProxy, type TestProxy } from '../helpers/world.ts';
import {
  closedPort,
  expectRefusal,
  logLinesWith,
  meterErrors,
  startAnsweringProxy,
  type SilentServer,
} from '../helpers/faults.ts';

const REMOTE = 'management.azure.com';

describe('enterprise proxy refuses or cannot be reached', () => {
  let world: TestProxy | undefined;
  let corp: SilentServer | undefined;
  afterEach(async () => {
    await world?.close();
    await corp?.close();
    world = corp = undefined;
  });

  const connect = (w: TestProxy) =>
    rawExchange(w.port, `CONNECT ${REMOTE}:443 HTTP/1.1\r\nHost: ${REMOTE}:443\r\n\r\n`);

  test('a 403 to CONNECT gets 502 ARCPROXY_UPSTREAM_PROXY_REFUSED naming the status', async () => {
    corp = await startAnsweringProxy(403);
    world = await startProxy({ config: { 'proxy.url': `http://127.0.0.1:${corp.port}` } });
    const { message } = expectRefusal(await connect(world), 502, 'ARCPROXY_UPSTREAM_PROXY_REFUSED');
    expect(message).toContain('403');
    expect(corp.received()[0]).toMatch(new RegExp(`^CONNECT ${REMOTE}:443 HTTP/1\\.1\\r\\n`));
    expect(logLinesWith(world.lines(), 'ARCPROXY_UPSTREAM_PROXY_REFUSED')).toContainEqual(
      expect.objectContaining({ destination: `${REMOTE}:443`, route: 'upstream' }),
    );
    expect(meterErrors(world.proxy, 'ARCPROXY_UPSTREAM_PROXY_REFUSED')).toBe(1);
  });

  test('a proxy.url nobody listens on gets 502 ARCPROXY_UPSTREAM_PROXY_UNREACHABLE, for CONNECT and GET', async () => {
    const code = 'ARCPROXY_UPSTREAM_PROXY_UNREACHABLE';
    const port = await closedPort();
    world = await startProxy({ config: { 'proxy.url': `http://127.0.0.1:${port}` } });
    const { message } = expectRefusal(await connect(world), 502, code);
    expect(message).toContain(`127.0.0.1:${port}`);
    const raw = await rawExchange(world.port, `GET http://${REMOTE}/ HTTP/1.1\r\nHost: ${REMOTE}\r\n\r\n`);
    expectRefusal(raw, 502, code);
    expect(logLinesWith(world.lines(), code)).toHaveLength(2);
    expect(meterErrors(world.proxy, code)).toBe(2);
  });
});
