// Slowloris: a client that trickles its request head and never finishes it gets 408 within about
// limits.headersTimeoutMs, and the proxy closes the connection although bytes keep arriving.
import http from 'node:http';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { closeServer, eventually, listen, startEcho, startProxy, type TestProxy } from '../helpers/world.ts';
import { RawClient, expectRefusal, logLinesWith, meterErrors } from '../helpers/faults.ts';

const CODE = 'ARCPROXY_HEADERS_TIMEOUT';

describe('request head not complete within the header timeout', () => {
  let world: TestProxy;
  let trickle: NodeJS.Timeout | undefined;

  beforeEach(async () => {
    world = await startProxy({ limits: { headersTimeoutMs: 300 } });
  });
  afterEach(async () => {
    clearInterval(trickle);
    await world.close();
  });

  test('a trickled request line gets 408 and the connection is closed', async () => {
    const client = await RawClient.connect(world.port);
    client.write('GET http://127.0.0.1:9/ HT');
    // The rest of a valid head, one byte every 50 ms: activity that must not reset the timer.
    const rest = `TP/1.1\r\nHost: 127.0.0.1:9\r\nX-Slow: ${'s'.repeat(500)}`;
    let i = 0;
    trickle = setInterval(() => {
      if (!client.isEnded && client.socket.writable) client.write(rest.charAt(i++));
    }, 50);
    await client.waitEnd(5_000);
    clearInterval(trickle);
    expectRefusal(client.text(), 408, CODE);
    expect(logLinesWith(world.lines(), CODE)).toHaveLength(1);
    expect(meterErrors(world.proxy, CODE)).toBe(1);
    // The proxy's side closes right after its answer; the client may see the FIN a moment earlier.
    await eventually(() => world.proxy.openConnections === 0, 2_000);
  });

  test('a CONNECT whose headers never end gets 408 and the connection is closed', async () => {
    const client = await RawClient.connect(world.port);
    client.write('CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n');
    let n = 0;
    trickle = setInterval(() => {
      if (!client.isEnded && client.socket.writable) client.write(`X-${n++}: slow\r\n`);
    }, 50);
    await client.waitEnd(5_000);
    clearInterval(trickle);
    expectRefusal(client.text(), 408, CODE);
    expect(meterErrors(world.proxy, CODE)).toBe(1);
    expect(world.proxy.openTunnels).toBe(0);
  });

  // The timeout is for the request head only: what comes after a complete head is not cut short.
  test('a tunnel lives on past the header timeout', async () => {
    const echo = await startEcho();
    try {
      const { client, head } = await RawClient.tunnel(world.port, `127.0.0.1:${echo.port}`);
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      await new Promise((r) => setTimeout(r, 1_000));
      client.write('still here');
      expect(await client.readUntil('still here')).toBe('still here');
      expect(meterErrors(world.proxy, CODE)).toBe(0);
      client.destroy();
    } finally {
      await closeServer(echo.server);
    }
  });

  test('a complete request whose answer takes longer than the header timeout gets the answer', async () => {
    const slow = http.createServer((_req, res) => void setTimeout(() => res.end('late'), 1_000));
    const port = await listen(slow);
    try {
      const client = await RawClient.connect(world.port);
      client.write(`GET http://127.0.0.1:${port}/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      expect(await client.readUntil('late', 5_000)).toMatch(/^HTTP\/1\.1 200 [\s\S]*late$/);
      expect(meterErrors(world.proxy, CODE)).toBe(0);
      client.destroy();
    } finally {
      await closeServer(slow);
    }
  });
});
