// Half-closed tunnels (RFC 9293 section 3.6; RFC 9110 section 9.3.6 lets either side close its half):
// a FIN from one side is passed on, and the other direction keeps flowing until its own FIN.
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { closeServer, eventually, listen, startEcho, startProxy, type TestProxy } from '../helpers/world.ts';
import { RawClient } from '../helpers/faults.ts';

describe('half-closed tunnels', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  const proxy = async (): Promise<TestProxy> => {
    const world = await startProxy();
    cleanup.push(() => world.close());
    return world;
  };

  test('client sends, then half-closes: it still receives every echoed byte, then EOF', async () => {
    const echo = await startEcho();
    cleanup.push(() => closeServer(echo.server));
    const world = await proxy();
    const { client, head } = await RawClient.tunnel(world.port, `127.0.0.1:${echo.port}`);
    expect(head).toMatch(/^HTTP\/1\.1 200 /);

    // More than one socket buffer's worth, so that some of it is still in flight after our FIN.
    const payload = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    client.socket.end(payload);

    const back = await client.readBytes(payload.length, 10_000);
    expect(back.equals(payload)).toBe(true);
    await client.waitEnd(5_000);
    expect(client.text()).toBe('');
    await eventually(() => world.proxy.openTunnels === 0);
    const entry = world.proxy.meter
      .snapshot()
      .entries.find((e) => e.destination === `127.0.0.1:${echo.port}`);
    expect(entry).toMatchObject({ tunnels: 1, bytesSent: payload.length, bytesReceived: payload.length });
    expect(entry?.errors).toEqual({});
  });

  test('payload and FIN sent with the CONNECT, before the 200: both reach the destination, the answer comes back', async () => {
    // A destination that answers what it heard once the client's FIN is in, then closes.
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      let heard = '';
      s.on('error', () => {});
      s.on('data', (d: Buffer) => (heard += d.toString()));
      s.on('end', () => s.end(`heard ${JSON.stringify(heard)} then EOF`));
    });
    const port = await listen(server);
    cleanup.push(() => closeServer(server));
    const world = await proxy();

    const client = await RawClient.connect(world.port);
    client.socket.end(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\nearly bytes`);
    const all = await client.waitEnd(5_000);
    expect(all).toMatch(/^HTTP\/1\.1 200 [^\r]*\r\n\r\nheard "early bytes" then EOF$/);
    await eventually(() => world.proxy.openTunnels === 0 && world.proxy.openConnections === 0);
    const entry = world.proxy.meter.snapshot().entries.find((e) => e.destination === `127.0.0.1:${port}`);
    expect(entry).toMatchObject({ tunnels: 1, bytesSent: 11, bytesReceived: 28 });
  });

  test('server sends, then half-closes: the client gets data and EOF, and can still send', async () => {
    // A destination that greets, closes its sending half, and keeps reading until the client's FIN.
    let heard = '';
    let heardEof = false;
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      s.end('greeting then EOF');
      s.on('data', (d: Buffer) => (heard += d.toString()));
      s.on('end', () => (heardEof = true));
    });
    const port = await listen(server);
    cleanup.push(() => closeServer(server));
    const world = await proxy();

    const { client } = await RawClient.tunnel(world.port, `127.0.0.1:${port}`);
    expect(await client.waitEnd(5_000)).toBe('greeting then EOF');
    expect(client.isClosed).toBe(false);

    client.write('still talking');
    await eventually(() => heard === 'still talking');
    client.write(', and more');
    await eventually(() => heard === 'still talking, and more');
    expect(heardEof).toBe(false);
    client.socket.end();
    await eventually(() => heardEof);
    await client.waitClose(5_000);
    await eventually(() => world.proxy.openTunnels === 0);
    const entry = world.proxy.meter.snapshot().entries.find((e) => e.destination === `127.0.0.1:${port}`);
    expect(entry).toMatchObject({ tunnels: 1, bytesSent: 23, bytesReceived: 17 });
  });
});
