// A stand-in for a customer's enterprise proxy: CONNECT and absolute-form forwarding, optionally
// behind TLS and Basic credentials, recording what it was asked. Its own resolve map lets it reach
// test names (e.g. arm.test) that only exist on loopback.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { listen, type Pki } from './world.ts';

export interface EnterpriseProxy {
  port: number;
  url: string;
  /** Targets asked for, as `CONNECT host:port` or `GET http://...`. */
  asked: string[];
  /** Proxy-Authorization values received. */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

export async function startEnterpriseProxy(
  opts: { credentials?: string; tls?: Pki; resolve?: Record<string, number> } = {},
): Promise<EnterpriseProxy> {
  const asked: string[] = [];
  const authorizations: (string | undefined)[] = [];
  const expected = opts.credentials ? `Basic ${Buffer.from(opts.credentials).toString('base64')}` : undefined;
  const where = (host: string, port: number) => ({
    host: opts.resolve?.[host] ? '127.0.0.1' : host,
    port: opts.resolve?.[host] ?? port,
  });
  const authorised = (req: http.IncomingMessage) => {
    authorizations.push(req.headers['proxy-authorization']);
    return !expected || req.headers['proxy-authorization'] === expected;
  };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    asked.push(`${req.method} ${req.url}`);
    if (!authorised(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="corp"' }).end();
      return;
    }
    const url = new URL(req.url ?? '');
    const to = where(url.hostname, Number(url.port) || 80);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const up = http.request(
      { host: to.host, port: to.port, method: req.method, path: url.pathname + url.search, headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  };
  const server = opts.tls
    ? https.createServer(
        { key: readFileSync(opts.tls.keyFile), cert: readFileSync(opts.tls.certFile) },
        handler,
      )
    : http.createServer(handler);
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    asked.push(`CONNECT ${req.url}`);
    socket.on('error', () => {});
    if (!authorised(req)) {
      socket.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    const colon = (req.url ?? '').lastIndexOf(':');
    const to = where((req.url ?? '').slice(0, colon), Number((req.url ?? '').slice(colon + 1)));
    const up = net.connect(to.port, to.host, () => {
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
  });
  const port = await listen(server);
  return {
    port,
    url: `${opts.tls ? 'https' : 'http'}://${opts.credentials ? `${opts.credentials}@` : ''}${opts.tls ? 'localhost' : '127.0.0.1'}:${port}`,
    asked,
    authorizations,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
