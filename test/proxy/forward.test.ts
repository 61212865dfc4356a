// Absolute-form forwarding with curl -x: keep-alive to the client, pooled connections to the origin,
// hop-by-hop headers removed both ways (RFC 9110 section 7.6.1), Via added.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, curl, startOrigin, startProxy, type TestProxy } from '../helpers/world.ts';

let origin: Awaited<ReturnType<typeof startOrigin>>;
let p: TestProxy;

beforeAll(async () => {
  origin = await startOrigin();
  p = await startProxy();
});
afterAll(async () => {
  await p.close();
  await closeServer(origin.server);
});

describe('absolute-form forwarding', () => {
  it('forwards a GET from curl -x and drops hop-by-hop headers both ways', async () => {
    const r = await curl([
      '-i',
      '-x',
      `http://tester@127.0.0.1:${p.port}`,
      '-H',
      'Connection: keep-alive, X-Secret-Hop',
      '-H',
      'X-Secret-Hop: 1',
      '-H',
      'Proxy-Connection: keep-alive',
      `http://127.0.0.1:${origin.port}/hello?x=1`,
    ]);
    expect(r.code).toBe(0);
    const [head, body] = r.stdout.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head).toMatch(/via: 1\.1 arcproxy/i);
    expect(head).not.toMatch(/x-drop-me/i);
    expect(head).not.toMatch(/timeout=77/i);
    const seen = JSON.parse(body!) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe('/hello?x=1');
    expect(seen.headers['host']).toBe(`127.0.0.1:${origin.port}`);
    expect(seen.headers['via']).toBe('1.1 arcproxy');
    expect(seen.headers).not.toHaveProperty('x-secret-hop');
    expect(seen.headers).not.toHaveProperty('proxy-connection');
    expect(seen.headers).not.toHaveProperty('proxy-authorization');
  });

  it('keeps the client connection alive and pools connections to the origin', async () => {
    const fresh = await startOrigin();
    let connections = 0;
    fresh.server.on('connection', () => connections++);
    const url = `http://127.0.0.1:${fresh.port}/bytes/10`;
    const r = await curl([
      '-v',
      '-o',
      '/dev/null',
      '-o',
      '/dev/null',
      '-o',
      '/dev/null',
      '-x',
      p.url,
      url,
      url,
      url,
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Re-using existing connection/i);
    expect(fresh.seen).toHaveLength(3);
    expect(connections).toBe(1);
    await closeServer(fresh.server);
  });

  it('forwards request bodies and streams large responses', async () => {
    const body = Buffer.alloc(300_000, 'b');
    const agent = new http.Agent({ keepAlive: false });
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: p.port,
          method: 'POST',
          path: `http://127.0.0.1:${origin.port}/upload`,
          agent,
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(JSON.parse(answer)).toEqual({ received: 300_000 });
    const big = await curl([
      '-o',
      '/dev/null',
      '-w',
      '%{size_download}',
      '-x',
      p.url,
      `http://127.0.0.1:${origin.port}/bytes/5000000`,
    ]);
    expect(big.stdout).toBe('5000000');
  });

  it('refuses https:// in absolute form and points at CONNECT', async () => {
    const r = await curl([
      '-i',
      '--proxy',
      p.url,
      '--request-target',
      'https://example.com/',
      'http://127.0.0.1:1/',
    ]);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 400/);
    expect(r.stdout).toMatch(/x-arc-proxy-error: ARCPROXY_BAD_REQUEST/i);
    expect(r.stdout).toContain('use CONNECT');
  });
});
