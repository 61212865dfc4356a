// How forwarded messages are framed on the way through: chunked bodies both ways (passed on, and
// counted as payload), an answer delimited by the close of its connection, an HTTP/1.0 client, several
// requests on one connection, Expect: 100-continue, a pooled connection the origin closed, an origin
// whose answer does not parse, and the keep-alive timeout.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../core/index.ts';
import {
  closeServer,
  curl,
  eventually,
  listen,
  rawExchange,
  startProxy,
  type TestProxy,
} from '../helpers/world.ts';

let p: TestProxy;
let origin: http.Server;
let originPort: number;
const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: number }[] = [];

beforeAll(async () => {
  origin = http.createServer((req, res) => {
    let body = 0;
    req.on('data', (c: Buffer) => (body += c.length));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const m = /^\/chunks\/(\d+)x(\d+)$/.exec(req.url ?? '');
      if (m) {
        // No Content-Length: node answers chunked, one chunk per write.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let i = 0; i < Number(m[1]); i++) res.write(Buffer.alloc(Number(m[2]), 'c'));
        res.end();
        return;
      }
      res.end(JSON.stringify({ url: req.url, received: body }));
    });
  });
  originPort = await listen(origin);
  p = await startProxy({ limits: { keepAliveTimeoutMs: 300 } });
});
afterAll(async () => {
  await p.close();
  await closeServer(origin);
});

const entry = (destination: string) =>
  p.proxy.meter.snapshot().entries.find((e) => e.destination === destination && e.client === 'framing');

/** A GET of http://<dest>/ through `port` on a connection of its own, and all that came back. */
const getVia = (port: number, dest: string) =>
  rawExchange(port, `GET http://${dest}/ HTTP/1.1\r\nHost: ${dest}\r\nConnection: close\r\n\r\n`);

/** A raw origin on loopback: `answer` gets each connection and the bytes of its requests. */
async function rawOrigin(answer: (socket: net.Socket, request: string, nth: number) => void) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let nth = 0;
    let text = '';
    socket.on('error', () => {});
    socket.on('data', (d) => {
      text += d.toString('latin1');
      while (text.includes('\r\n\r\n')) {
        const end = text.indexOf('\r\n\r\n') + 4;
        answer(socket, text.slice(0, end), nth++);
        text = text.slice(end);
      }
    });
  });
  const port = await listen(server);
  // The proxy keeps idle connections to it for a while: cut them.
  const close = () => {
    for (const socket of sockets) socket.destroy();
    return closeServer(server);
  };
  return { port, close };
}

/**
 * A raw connection to the proxy: `start` writes to it, `onText` sees what came back so far; resolves
 * with all of it once the proxy closes the connection (the test times out if it never does).
 */
function untilClosed(
  start: (socket: net.Socket) => void,
  onText?: (text: string, socket: net.Socket) => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(p.port, '127.0.0.1');
    socket.setNoDelay(true);
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
      onText?.(text, socket);
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    socket.on('connect', () => start(socket));
  });
}

describe('framing of forwarded messages', () => {
  it('passes a chunked request body on and counts its payload', async () => {
    const dest = `127.0.0.1:${originPort}`;
    const body = Buffer.alloc(200_000, 'u');
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: p.port,
          method: 'POST',
          path: `http://${dest}/upload`,
          headers: { 'proxy-authorization': `Basic ${Buffer.from('framing:').toString('base64')}` },
          agent: new http.Agent({ keepAlive: false }),
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      // Several writes without a length: node sends them chunked.
      for (let i = 0; i < 4; i++) req.write(body.subarray(i * 50_000, (i + 1) * 50_000));
      req.end();
    });
    expect(JSON.parse(answer)).toEqual({ url: '/upload', received: 200_000 });
    const last = seen.at(-1)!;
    expect(last.headers['transfer-encoding']).toBe('chunked');
    expect(entry(dest)).toMatchObject({ requests: 1, bytesSent: 200_000 });
  });

  it('passes a chunked answer on and counts its payload, not its framing', async () => {
    const dest = `127.0.0.1:${originPort}`;
    const before = entry(dest)?.bytesReceived ?? 0;
    const r = await curl([
      '-sS',
      '-D',
      '-',
      '-o',
      '/dev/null',
      '-w',
      '%{size_download}',
      '-x',
      `http://framing@127.0.0.1:${p.port}`,
      `http://${dest}/chunks/50x1000`,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/transfer-encoding: chunked/i);
    expect(r.stdout.endsWith('50000')).toBe(true);
    await eventually(() => (entry(dest)?.bytesReceived ?? 0) >= before + 50_000);
    expect(entry(dest)?.bytesReceived).toBe(before + 50_000);
  });

  it('gives an HTTP/1.0 client a chunked answer as plain payload, then closes', async () => {
    const dest = `127.0.0.1:${originPort}`;
    const raw = await rawExchange(p.port, `GET http://${dest}/chunks/3x5 HTTP/1.0\r\nHost: ${dest}\r\n\r\n`);
    const [head, body] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head).not.toMatch(/transfer-encoding/i);
    expect(head).toMatch(/connection: close/i);
    expect(body).toBe('c'.repeat(15));
  });

  it('relays an answer delimited by the close of its connection, and closes the client connection', async () => {
    const o = await rawOrigin((socket) => {
      socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end');
    });
    const dest = `127.0.0.1:${o.port}`;
    const raw = await rawExchange(p.port, `GET http://${dest}/ HTTP/1.1\r\nHost: ${dest}\r\n\r\n`);
    const [head, body] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(head).toMatch(/connection: close/i);
    expect(body).toBe('until the end');
    await o.close();
  });

  it('reads a head that arrives a few bytes at a time, and one whose end is split across reads', async () => {
    const dest = `127.0.0.1:${originPort}`;
    const head = `GET http://${dest}/pieces HTTP/1.1\r\nHost: ${dest}\r\nX-Pad: ${'p'.repeat(3000)}\r\nConnection: close\r\n\r\n`;
    // 7-byte pieces, a tick apart, the last CRLF alone: the blank line falls across two reads.
    const pieces: string[] = [];
    for (let at = 0; at < head.length - 2; at += 7)
      pieces.push(head.slice(at, Math.min(at + 7, head.length - 2)));
    pieces.push('\r\n');
    const answer = await untilClosed((s) => {
      const next = () => {
        const piece = pieces.shift();
        if (piece === undefined) return;
        s.write(piece);
        setTimeout(next, 0);
      };
      next();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('"url":"/pieces"');
    expect(seen.at(-1)!.headers['x-pad']).toHaveLength(3000);
  });

  it('skips empty lines before a request line that comes later', async () => {
    const dest = `127.0.0.1:${originPort}`;
    const answer = await untilClosed((s) => {
      s.write('\r\n\r\n');
      setTimeout(() => {
        s.write(`GET http://${dest}/late HTTP/1.1\r\nHost: ${dest}\r\n`);
        setTimeout(() => s.write('Connection: close\r\n\r\n'), 20);
      }, 20);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('"url":"/late"');
  });

  it('answers several requests sent at once on one connection, in order', async () => {
    const dest = `127.0.0.1:${originPort}`;
    const one = (path: string) => `GET http://${dest}${path} HTTP/1.1\r\nHost: ${dest}\r\n\r\n`;
    const raw = await rawExchange(
      p.port,
      one('/first') + one('/second') + one('/third').replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'),
    );
    const urls = [...raw.matchAll(/\{"url":"([^"]+)"/g)].map((m) => m[1]);
    expect(urls).toEqual(['/first', '/second', '/third']);
  });

  it('says 100 Continue to a client that expects it, before the body is sent', async () => {
    const dest = `127.0.0.1:${originPort}`;
    const answer = await untilClosed(
      (s) =>
        s.write(
          `POST http://${dest}/continue HTTP/1.1\r\nHost: ${dest}\r\nContent-Length: 5\r\n` +
            'Expect: 100-continue\r\nConnection: close\r\n\r\n',
        ),
      (text, s) => {
        if (text === 'HTTP/1.1 100 Continue\r\n\r\n') s.write('hello');
      },
    );
    expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(answer).toContain('"received":5');
    expect(seen.at(-1)!.headers).not.toHaveProperty('expect');
  });

  it('sends a request again on a new connection when a pooled one turns out closed', async () => {
    let connections = 0;
    const o = await rawOrigin((socket, _request, nth) => {
      if (nth === 0) {
        connections++;
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      } else {
        socket.destroy(); // as an origin does that closed the connection as the request came
      }
    });
    const dest = `127.0.0.1:${o.port}`;
    const get = () => getVia(p.port, dest);
    expect(await get()).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nok$/);
    expect(await get()).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nok$/);
    expect(connections).toBe(2);
    await o.close();
  });

  it('answers 502 ARCPROXY_UPSTREAM_RESET when the origin answers something that is not HTTP', async () => {
    const o = await rawOrigin((socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n\r\n'));
    const dest = `127.0.0.1:${o.port}`;
    const raw = await rawExchange(p.port, `GET http://${dest}/ HTTP/1.1\r\nHost: ${dest}\r\n\r\n`);
    expect(raw).toMatch(/^HTTP\/1\.1 502 /);
    expect(raw).toMatch(/x-arc-proxy-error: ARCPROXY_UPSTREAM_RESET/i);
    await o.close();
  });

  it('reads an answer head that arrives a few bytes at a time, its end split across reads', async () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Slow: yes\r\nContent-Length: 5\r\n\r\n';
    // 5-byte pieces: the head is 77 bytes, so the last two split its final CRLF CRLF; the body after a pause.
    const pieces = head.match(/[\s\S]{1,5}/g)!;
    expect(pieces.at(-1)).toBe('\r\n');
    const o = await rawOrigin((socket) => {
      let i = 0;
      const next = () => {
        if (i < pieces.length) {
          socket.write(pieces[i++]!);
          setTimeout(next, 2);
        } else {
          setTimeout(() => socket.write('hello'), 20);
        }
      };
      next();
    });
    const dest = `127.0.0.1:${o.port}`;
    const raw = await getVia(p.port, dest);
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(raw).toMatch(/\r\nx-slow: yes\r\n/i);
    expect(raw.endsWith('\r\n\r\nhello')).toBe(true);
    await o.close();
  });

  it('refuses an answer head with a bare LF as soon as it comes, not after the answer timeout', async () => {
    // The blank line never comes: only the bare LF can end the wait early.
    const o = await rawOrigin((socket) => socket.write('HTTP/1.1 200 OK\r\nX-Bad: yes\nX-More'));
    const dest = `127.0.0.1:${o.port}`;
    const raw = await getVia(p.port, dest);
    expect(raw).toMatch(/^HTTP\/1\.1 502 /);
    expect(raw).toMatch(/x-arc-proxy-error: ARCPROXY_UPSTREAM_RESET/i);
    expect(raw).toContain('bare CR or LF');
    await o.close();
  });

  it('refuses a request that comes back to it through its own enterprise proxy setting, instead of going round', async () => {
    // proxy.url naming the Arc Proxy itself, as an HTTP_PROXY meant for its clients would.
    const looping = await startProxy();
    try {
      looping.proxy.setConfig({ ...defaultConfig(), 'proxy.url': looping.url });
      const dest = 'example.com';
      const raw = await getVia(looping.port, dest);
      // The second pass refuses it, and the first passes that answer on as its enterprise proxy's.
      expect(raw).toMatch(/^HTTP\/1\.1 400 /);
      expect(raw).toMatch(/x-arc-proxy-error: ARCPROXY_BAD_REQUEST/i);
      expect(raw).toContain('it would go round in a loop');
    } finally {
      await looping.close();
    }
  });

  it('closes a client connection idle past the keep-alive timeout', async () => {
    const dest = `127.0.0.1:${originPort}`;
    const raw = await untilClosed((s) =>
      s.write(`GET http://${dest}/idle HTTP/1.1\r\nHost: ${dest}\r\n\r\n`),
    );
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
  });
});
