// Thousands of clients that give up half-way (mid-headers, mid-CONNECT, right after the tunnel is
// up, mid-download) leave nothing behind: no open connections or tunnels, no extra process handles,
// and no heap growth beyond noise once collected.
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { closeServer, eventually, rawExchange, startEcho, startOrigin } from '../helpers/world.ts';
import {
  RawClient,
  activeResources,
  forceGc,
  meterErrors,
  startQuietProxy,
  startStreamingOrigin,
} from '../helpers/faults.ts';

const CLIENTS = 3_000;
const CONCURRENCY = 40;
// Far more than loopback socket buffers hold, so the client always leaves mid-transfer.
const DOWNLOAD_BYTES = 256 * 1024 * 1024;
const MB = 1024 * 1024;

/** One client that gives up; `i` picks a FIN (even) or a RST (odd) for the way it leaves. */
type Abort = (port: number, i: number) => Promise<void>;

const leave = (c: RawClient, i: number) => (i % 2 === 0 ? c.destroy() : c.reset());

describe('thousands of aborted clients', () => {
  let world: Awaited<ReturnType<typeof startQuietProxy>>;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let echo: { port: number; server: net.Server };
  let streaming: Awaited<ReturnType<typeof startStreamingOrigin>>;

  beforeAll(async () => {
    origin = await startOrigin();
    echo = await startEcho();
    streaming = await startStreamingOrigin();
    world = await startQuietProxy();
  });
  afterAll(async () => {
    await world.close();
    await closeServer(origin.server);
    await closeServer(echo.server);
    await streaming.close();
  });

  const connectHead = () => `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\n\r\n`;
  const aborts: Record<string, Abort> = {
    'mid-headers': async (port, i) => {
      const c = await RawClient.connect(port);
      c.write(`GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nX-Part`);
      leave(c, i);
    },
    'mid-CONNECT': async (port, i) => {
      const c = await RawClient.connect(port);
      c.write(connectHead());
      leave(c, i);
    },
    'right after the tunnel is up': async (port, i) => {
      const c = await RawClient.connect(port);
      c.write(connectHead());
      await c.readUntil('\r\n\r\n');
      c.write('some payload');
      leave(c, i);
    },
    'mid-download': async (port, i) => {
      const c = await RawClient.connect(port);
      const dest = `127.0.0.1:${streaming.port}`;
      c.write(`GET http://${dest}/stream/${DOWNLOAD_BYTES} HTTP/1.1\r\nHost: ${dest}\r\n\r\n`);
      await c.readUntil('\r\n\r\n');
      await c.readBytes(1);
      leave(c, i);
    },
  };
  const kinds = Object.values(aborts);

  const storm = async (n: number) => {
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        await kinds[i % kinds.length]!(world.port, Math.floor(i / kinds.length));
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n) }, worker));
  };

  const settled = async () => {
    await eventually(() => world.proxy.openConnections === 0 && world.proxy.openTunnels === 0, 15_000);
  };

  const count = (what: 'tunnels' | 'requests', port: number) =>
    world.proxy.meter
      .snapshot()
      .entries.filter((e) => e.destination === `127.0.0.1:${port}`)
      .reduce((n, e) => n + e[what], 0);

  const heapAfterGc = async (gc: () => void) => {
    // The origin remembers every request's headers; that is the test's memory, not the proxy's.
    origin.seen.length = 0;
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    return process.memoryUsage().heapUsed;
  };

  test(`${CLIENTS} aborted clients leave no connections, tunnels, handles or heap behind`, async () => {
    const gc = forceGc();
    // Warm up: every code path runs once, so lazy loading and first-use allocations are in the baseline.
    await storm(kinds.length * 10);
    await settled();
    // Pooled keep-alive connections to the origin close on their own; the baseline is without them.
    const quiet = activeResources();
    const baseline: Record<string, number> = { ...quiet, TCPSocketWrap: 0 };
    const heapBefore = await heapAfterGc(gc);

    const tunnelsBefore = count('tunnels', echo.port);
    const requestsBefore = count('requests', streaming.port);
    await storm(CLIENTS);
    await settled();
    // The storm went where it should: a tunnel per "right after" client, a request per download.
    expect(count('tunnels', echo.port) - tunnelsBefore).toBeGreaterThanOrEqual(CLIENTS / 4);
    expect(count('requests', streaming.port) - requestsBefore).toBeGreaterThanOrEqual(CLIENTS / 4);

    // No download goes on after its client left.
    await eventually(() => streaming.open() === 0, 15_000);
    // Every socket the storm opened is gone: the proxy's to clients, destinations and the origin pool.
    const sockets = () => activeResources().TCPSocketWrap ?? 0;
    await eventually(() => sockets() === 0, 15_000).catch(() => {
      throw new Error(
        `sockets left: ${JSON.stringify(activeResources())} (baseline ${JSON.stringify(quiet)})`,
      );
    });
    const after = activeResources();
    for (const [kind, n] of Object.entries(after)) {
      expect(n, `${kind}: ${JSON.stringify(after)} vs ${JSON.stringify(baseline)}`).toBeLessThanOrEqual(
        baseline[kind] ?? 0,
      );
    }

    const heapAfter = await heapAfterGc(gc);
    expect((heapAfter - heapBefore) / MB).toBeLessThan(20);

    // A client that reset before it was accepted is gone, not refused as a stranger: every client here is on loopback.
    expect(meterErrors(world.proxy, 'ARCPROXY_NOT_LOOPBACK')).toBe(0);

    // And the proxy still serves.
    const raw = await rawExchange(
      world.port,
      `GET http://127.0.0.1:${origin.port}/bytes/10 HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nConnection: close\r\n\r\n`,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\n\r\naaaaaaaaaa$/);
  }, 60_000);
});
