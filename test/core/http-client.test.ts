// The outbound client: every call goes to the Arc Proxy as a CONNECT tunnel, with the service's id as
// the proxy user name, and TLS to the destination trusts the CA it is given. A recording CONNECT
// proxy on loopback stands in for the Arc Proxy.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { request, type Dispatcher } from 'undici';
import { clientAuthorization, createOutboundDispatcher } from '../../core/index.ts';
import { closeServer, listen, makePki, startOrigin } from '../helpers/world.ts';

interface Seen {
  target: string | undefined;
  authorization: string | undefined;
}

/** A CONNECT-only proxy that records what each client asked for and relays the bytes. */
async function startConnectProxy(): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    seen.push({ target: req.url, authorization: req.headers['proxy-authorization'] });
    const [host = '', port = ''] = (req.url ?? '').split(/:(?=\d+$)/);
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await closeServer(server);
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function world() {
  const proxy = await startConnectProxy();
  cleanups.push(proxy.close);
  return proxy;
}

function keep(dispatcher: Dispatcher): Dispatcher {
  cleanups.push(() => dispatcher.destroy());
  return dispatcher;
}

describe('clientAuthorization', () => {
  it('names the client as a Basic user name with an empty password', () => {
    const value = clientAuthorization('extd');
    expect(value).toBe(`Basic ${Buffer.from('extd:').toString('base64')}`);
    expect(Buffer.from(value.slice('Basic '.length), 'base64').toString()).toBe('extd:');
  });
});

describe('createOutboundDispatcher', () => {
  it('tunnels a plain http:// call through the proxy, naming the client', async () => {
    const proxy = await world();
    const origin = await startOrigin();
    cleanups.push(() => closeServer(origin.server));
    const dispatcher = keep(await createOutboundDispatcher({ proxyUrl: proxy.url, clientId: 'himds' }));

    const res = await request(`http://127.0.0.1:${origin.port}/bytes/5`, { dispatcher });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('aaaaa');
    expect(proxy.seen).toEqual([
      { target: `127.0.0.1:${origin.port}`, authorization: clientAuthorization('himds') },
    ]);
  });

  it('verifies TLS to the destination against the CA it is given, and fails without it', async () => {
    const pki = makePki();
    const origin = https.createServer(
      { cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) },
      (_req, res) => res.end('over tls'),
    );
    const port = await listen(origin);
    cleanups.push(() => closeServer(origin));
    const proxy = await world();

    const trusting = keep(
      await createOutboundDispatcher({ proxyUrl: proxy.url, clientId: 'gcad', ca: pki.ca }),
    );
    const res = await request(`https://localhost:${port}/`, { dispatcher: trusting });
    expect(await res.body.text()).toBe('over tls');
    expect(proxy.seen.at(-1)).toEqual({
      target: `localhost:${port}`,
      authorization: clientAuthorization('gcad'),
    });

    const untrusting = keep(await createOutboundDispatcher({ proxyUrl: proxy.url, clientId: 'gcad' }));
    await expect(request(`https://localhost:${port}/`, { dispatcher: untrusting })).rejects.toThrow(
      /certificate/i,
    );
  });
});
