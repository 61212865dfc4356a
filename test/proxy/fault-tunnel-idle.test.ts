// A CONNECT tunnel with no traffic for limits.idleTimeoutMs is closed and counted as
// ARCPROXY_TUNNEL_IDLE; a tunnel that keeps carrying bytes is not.
import type net from 'node:net';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { closeServer, eventually, startEcho, startProxy, type TestProxy } from '../helpers/world.ts';
import { RawClient, logLinesWith, meterErrors } from '../helpers/faults.ts';

const CODE = 'ARCPROXY_TUNNEL_IDLE';
const IDLE_MS = 300;

describe('idle tunnels', () => {
  let world: TestProxy;
  let echo: { port: number; server: net.Server };
  let timer: NodeJS.Timeout | undefined;

  beforeEach(async () => {
    echo = await startEcho();
    world = await startProxy({ limits: { idleTimeoutMs: IDLE_MS } });
  });
  afterEach(async () => {
    clearInterval(timer);
    await world.close();
    await closeServer(echo.server);
  });

  test('a tunnel idle past the idle timeout is closed and counted', async () => {
    const { client, head } = await RawClient.tunnel(world.port, `127.0.0.1:${echo.port}`);
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    client.write('ping');
    expect(await client.readUntil('ping')).toBe('ping');
    const quietSince = Date.now();
    await client.waitEnd(5_000);
    expect(Date.now() - quietSince).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(client.text()).toBe('');
    await eventually(() => meterErrors(world.proxy, CODE) === 1);
    const entry = world.proxy.meter
      .snapshot()
      .entries.find((e) => e.destination === `127.0.0.1:${echo.port}`);
    expect(entry).toMatchObject({ tunnels: 1, bytesSent: 4, bytesReceived: 4, errors: { [CODE]: 1 } });
    expect(logLinesWith(world.lines(), CODE)).toHaveLength(1);
    expect(world.proxy.openTunnels).toBe(0);
  });

  test('a tunnel that carries a byte every 100 ms outlives several idle timeouts', async () => {
    const { client } = await RawClient.tunnel(world.port, `127.0.0.1:${echo.port}`);
    let sent = 0;
    timer = setInterval(() => {
      client.write('x');
      sent++;
    }, 100);
    await new Promise((r) => setTimeout(r, IDLE_MS * 4));
    clearInterval(timer);
    expect(client.isEnded).toBe(false);
    expect((await client.readBytes(sent)).toString()).toBe('x'.repeat(sent));
    expect(meterErrors(world.proxy, CODE)).toBe(0);
    client.destroy();
    await eventually(() => world.proxy.openTunnels === 0);
  });
});
