// CONNECT tunnels with curl -p -x and real TLS end to end, with certificates made at test time.
import https from 'node:https';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeServer,
  curl,
  eventually,
  listen,
  makePki,
  startProxy,
  type Pki,
  type TestProxy,
} from '../helpers/world.ts';

let pki: Pki;
let tlsOrigin: https.Server;
let tlsPort: number;
let p: TestProxy;

beforeAll(async () => {
  pki = makePki();
  tlsOrigin = https.createServer(
    { key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) },
    (req, res) => {
      res.end(`secure ${req.url}`);
    },
  );
  tlsPort = await listen(tlsOrigin);
  p = await startProxy();
});
afterAll(async () => {
  await p.close();
  await closeServer(tlsOrigin);
});

describe('CONNECT tunnels', () => {
  it('carries TLS end to end for curl -x (https target)', async () => {
    const r = await curl([
      '--cacert',
      pki.caFile,
      '-x',
      `http://ext1@127.0.0.1:${p.port}`,
      `https://localhost:${tlsPort}/a`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('secure /a');
  });

  it('carries plain HTTP inside a tunnel for curl -p -x', async () => {
    const r = await curl(['-v', '-p', '-x', p.url, '--cacert', pki.caFile, `https://localhost:${tlsPort}/b`]);
    expect(r.stdout).toBe('secure /b');
    expect(r.stderr).toMatch(/CONNECT localhost:\d+ HTTP\/1\.1/);
    expect(r.stderr).toMatch(/200 Connection Established/i);
  });

  it('verifies the destination end to end: a wrong CA fails in the client, not in the proxy', async () => {
    const other = makePki();
    const r = await curl(['--cacert', other.caFile, '-x', p.url, `https://localhost:${tlsPort}/c`]);
    expect(r.code).toBe(60);
  });

  // Direct tunnels read a bulk destination in 4 MiB reads into a buffer they reuse, at most four at
  // once; the rest read through one shared buffer (tunnel.ts). Six clients that keep stopping must
  // each get every byte, in order, and the meter must count them.
  it('carries large downloads byte for byte to clients that read in fits and starts', async () => {
    const total = 24 * 1024 * 1024;
    const sent = new Map<number, string>();
    const bulk = net.createServer((socket) => {
      const hash = createHash('sha256');
      let left = total;
      const pump = () => {
        while (left > 0) {
          const chunk = randomBytes(Math.min(left, 700_001));
          left -= chunk.length;
          hash.update(chunk);
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
        sent.set(socket.remotePort!, hash.digest('hex'));
        socket.end();
      };
      pump();
    });
    const port = await listen(bulk);
    const download = async () => {
      const client = net.connect(p.port, '127.0.0.1');
      client.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      const got = createHash('sha256');
      let head = '';
      let payload = 0;
      let reads = 0;
      await new Promise<void>((resolve, reject) => {
        client.on('error', reject);
        client.on('end', resolve);
        client.on('data', (d: Buffer) => {
          if (!head.includes('\r\n\r\n')) {
            head += d.toString('latin1');
            const at = head.indexOf('\r\n\r\n');
            if (at < 0) return;
            d = Buffer.from(head.slice(at + 4), 'latin1');
            head = head.slice(0, at + 4);
          }
          got.update(d);
          payload += d.length;
          if (++reads % 16 === 0) {
            client.pause();
            setTimeout(() => client.resume(), 5);
          }
        });
      });
      return { head, payload, digest: got.digest('hex') };
    };
    try {
      const results = await Promise.all(Array.from({ length: 6 }, download));
      for (const r of results) {
        expect(r.head).toMatch(/^HTTP\/1\.1 200 /);
        expect(r.payload).toBe(total);
      }
      // Which download came over which connection is the proxy's business: compare the sets.
      expect(results.map((r) => r.digest).sort()).toEqual([...sent.values()].sort());
      await eventually(() =>
        p.proxy.meter
          .snapshot()
          .entries.some((e) => e.destination === `127.0.0.1:${port}` && e.bytesReceived === 6 * total),
      );
    } finally {
      await closeServer(bulk);
    }
  });

  it('passes on what a destination says first, after the 200', async () => {
    const banner = net.createServer((socket) => socket.end('220 ready\r\n'));
    const port = await listen(banner);
    try {
      const client = net.connect(p.port, '127.0.0.1');
      client.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      let text = '';
      client.on('data', (d: Buffer) => (text += d.toString('latin1')));
      await new Promise((resolve) => client.on('end', resolve));
      expect(text).toMatch(/^HTTP\/1\.1 200 [^\r]*\r\n\r\n220 ready\r\n$/);
    } finally {
      await closeServer(banner);
    }
  });

  it('keeps what a client sends before the 200 (with the CONNECT, and while it dials) for the destination', async () => {
    // An enterprise proxy that answers CONNECT after 300 ms, then echoes: the tunnel is slow to open.
    const slow = net.createServer((socket) => {
      socket.once('data', () => {
        setTimeout(() => {
          socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          socket.pipe(socket);
        }, 300);
      });
    });
    const slowPort = await listen(slow);
    const via = await startProxy({ config: { 'proxy.url': `http://127.0.0.1:${slowPort}` } });
    try {
      const client = net.connect(via.port, '127.0.0.1');
      let text = '';
      client.on('data', (d: Buffer) => (text += d.toString('latin1')));
      client.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nfirst ');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(text).toBe(''); // still dialling
      client.write('second');
      await eventually(() => text.endsWith('first second'));
      expect(text).toMatch(/^HTTP\/1\.1 200 [^\r]*\r\n\r\nfirst second$/);
      client.destroy();
    } finally {
      await via.close();
      await closeServer(slow);
    }
  });
});
