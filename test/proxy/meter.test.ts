// The meter is exact: N payload bytes each way through a tunnel, and message bodies of forwarded
// requests, show as N; per client, destination and route; in /metrics as Prometheus text.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientAuthorization } from '../../core/index.ts';
import {
  closeServer,
  curl,
  eventually,
  startEcho,
  startOrigin,
  startProxy,
  type TestProxy,
} from '../helpers/world.ts';

let p: TestProxy;
let echo: Awaited<ReturnType<typeof startEcho>>;
let origin: Awaited<ReturnType<typeof startOrigin>>;

beforeAll(async () => {
  [p, echo, origin] = await Promise.all([startProxy(), startEcho(), startOrigin()]);
});
afterAll(async () => {
  await p.close();
  await Promise.all([closeServer(echo.server), closeServer(origin.server)]);
});

/** Opens a tunnel to the echo server as `client`, sends `n` bytes (with the CONNECT, and after), reads them back. */
function echoThroughTunnel(client: string, n: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect(p.port, '127.0.0.1');
    const first = Buffer.alloc(Math.min(n, 1000), 'x');
    const rest = Buffer.alloc(n - first.length, 'y');
    let got = 0;
    let established = false;
    let head = '';
    s.on('connect', () => {
      // The first payload bytes travel in the same packet as the CONNECT head (the proxy's `head`).
      s.write(
        Buffer.concat([
          Buffer.from(
            `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: 127.0.0.1\r\nProxy-Authorization: ${clientAuthorization(client)}\r\n\r\n`,
          ),
          first,
        ]),
      );
    });
    s.on('data', (d: Buffer) => {
      if (!established) {
        head += d.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        established = true;
        got += Buffer.byteLength(head.slice(end + 4), 'latin1');
        s.write(rest);
      } else got += d.length;
      if (got === n) s.end();
    });
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

describe('meter', () => {
  it('counts tunnel payload exactly, both ways, per client', async () => {
    expect(await echoThroughTunnel('extd', 1_234_567)).toBe(1_234_567);
    expect(await echoThroughTunnel('gcad', 4_321)).toBe(4_321);
    await eventually(() => p.proxy.meter.snapshot().entries.filter((e) => e.tunnels > 0).length === 2);
    const entries = p.proxy.meter.snapshot().entries;
    const dest = `127.0.0.1:${echo.port}`;
    expect(entries.find((e) => e.client === 'extd')).toMatchObject({
      destination: dest,
      route: 'direct',
      bytesSent: 1_234_567,
      bytesReceived: 1_234_567,
      tunnels: 1,
      requests: 0,
    });
    expect(entries.find((e) => e.client === 'gcad')).toMatchObject({
      destination: dest,
      bytesSent: 4_321,
      bytesReceived: 4_321,
      tunnels: 1,
    });
  });

  it('counts forwarded request and response bodies exactly', async () => {
    const body = 'z'.repeat(7_777);
    const post = await curl([
      '-x',
      `http://poster@127.0.0.1:${p.port}`,
      '--data-binary',
      body,
      `http://127.0.0.1:${origin.port}/up`,
    ]);
    expect(JSON.parse(post.stdout)).toEqual({ received: 7_777 });
    const get = await curl([
      '-o',
      '/dev/null',
      '-w',
      '%{size_download}',
      '-x',
      `http://getter@127.0.0.1:${p.port}`,
      `http://127.0.0.1:${origin.port}/bytes/98765`,
    ]);
    expect(get.stdout).toBe('98765');
    await eventually(() => p.proxy.meter.snapshot().entries.some((e) => e.client === 'getter'));
    const entries = p.proxy.meter.snapshot().entries;
    expect(entries.find((e) => e.client === 'poster')).toMatchObject({
      bytesSent: 7_777,
      bytesReceived: '{"received":7777}'.length,
      requests: 1,
    });
    expect(entries.find((e) => e.client === 'getter')).toMatchObject({
      bytesSent: 0,
      bytesReceived: 98_765,
      requests: 1,
    });
  });

  it('exports the totals as Prometheus text at /metrics', async () => {
    const r = await curl([`${p.url}/metrics`]);
    expect(r.stdout).toContain('# TYPE arcproxy_sent_bytes_total counter');
    expect(r.stdout).toContain(
      `arcproxy_sent_bytes_total{client="extd",destination="127.0.0.1:${echo.port}",route="direct"} 1234567`,
    );
    expect(r.stdout).toContain(
      `arcproxy_received_bytes_total{client="getter",destination="127.0.0.1:${origin.port}",route="direct"} 98765`,
    );
    expect(r.stdout).toMatch(/^arcproxy_open_connections \d+$/m);
  });

  it('counts refusals with their codes', async () => {
    await curl(['-p', '-x', `http://bad@127.0.0.1:${p.port}`, 'http://127.0.0.1:1/']);
    await eventually(() => p.proxy.meter.snapshot().entries.some((e) => e.client === 'bad'));
    const e = p.proxy.meter.snapshot().entries.find((x) => x.client === 'bad');
    expect(e).toMatchObject({
      destination: '127.0.0.1:1',
      errors: { ARCPROXY_UPSTREAM_REFUSED: 1 },
      tunnels: 0,
    });
  });
});

describe('meter, live view', () => {
  it('shows what an open tunnel carried so far, and counts it once when it closes', async () => {
    const s = net.connect(p.port, '127.0.0.1');
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    s.write(
      `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${clientAuthorization('longlived')}\r\n\r\n`,
    );
    await new Promise((resolve) => s.once('data', resolve));
    const echoed = new Promise((resolve) => s.once('data', resolve));
    s.write(Buffer.alloc(5_000, 'q'));
    await echoed;
    await eventually(async () => {
      const live = JSON.parse((await curl([`${p.url}/stats`])).stdout) as {
        entries: { client: string; bytesSent: number; tunnels: number }[];
      };
      const e = live.entries.find((x) => x.client === 'longlived');
      return e?.bytesSent === 5_000 && e.tunnels === 1;
    });
    expect(p.proxy.meter.snapshot().entries.some((e) => e.client === 'longlived')).toBe(false);
    s.end();
    await eventually(() => p.proxy.meter.snapshot().entries.some((e) => e.client === 'longlived'));
    const closed = JSON.parse((await curl([`${p.url}/stats`])).stdout) as {
      entries: { client: string; bytesSent: number; tunnels: number }[];
    };
    expect(closed.entries.find((x) => x.client === 'longlived')).toMatchObject({
      bytesSent: 5_000,
      tunnels: 1,
    });
  });
});
