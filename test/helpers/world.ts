// A small world on loopback for tests: origin servers, an Arc Proxy started in-process on port 0,
// a PKI made with openssl at test time, and curl as a client. Everything listens on 127.0.0.1.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AzureCloud,
  createLogger,
  defaultConfig,
  type CloudProfile,
  type LocalConfig,
  type Logger,
} from '../../core/index.ts';
import { createArcProxy, type ArcProxy, type ProxyLimits } from '../../proxy/index.ts';

export const execFileP = promisify(execFile);

export const tempDir = (prefix = 'azcm-test-'): string => mkdtempSync(join(tmpdir(), prefix));

/** A logger that keeps its lines in memory, so tests can assert on them (and on what they lack). */
export function memoryLogger(level: 'debug' | 'info' | 'warn' = 'debug'): {
  log: Logger;
  lines: () => string;
} {
  const chunks: string[] = [];
  const destination = { write: (s: string) => void chunks.push(s) };
  const log = createLogger({
    name: 'test',
    level,
    destination: destination,
  });
  return { log, lines: () => chunks.join('') };
}

export async function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

export const closeServer = (server: net.Server): Promise<void> =>
  new Promise((resolve) => {
    if ('closeAllConnections' in server) (server as http.Server).closeAllConnections();
    server.close(() => resolve());
  });

/** An HTTP origin: answers `GET /bytes/N` with N bytes, echoes POST bodies, and reports what it saw. */
export async function startOrigin(): Promise<{
  port: number;
  server: http.Server;
  seen: http.IncomingHttpHeaders[];
}> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    const m = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
    if (m) {
      const body = Buffer.alloc(Number(m[1]), 'a');
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      res.end(body);
      return;
    }
    if (req.method === 'POST') {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(JSON.stringify({ received: n })));
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/json',
      connection: 'x-drop-me',
      'x-drop-me': '1',
      'keep-alive': 'timeout=5',
    });
    res.end(JSON.stringify({ url: req.url, headers: req.headers }));
  });
  const port = await listen(server);
  return { port, server, seen };
}

/** A raw TCP echo server: everything it receives comes back; half-close is mirrored after the echo. */
export async function startEcho(): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  return { port: await listen(server), server };
}

export interface TestProxy {
  proxy: ArcProxy;
  port: number;
  url: string;
  lines: () => string;
  close: () => Promise<void>;
}

export async function startProxy(
  opts: {
    config?: Partial<LocalConfig>;
    cloud?: CloudProfile;
    limits?: Partial<ProxyLimits>;
    envProxy?: string;
    upstreamCa?: string;
  } = {},
): Promise<TestProxy> {
  const { log, lines } = memoryLogger();
  const proxy = createArcProxy({
    log,
    config: { ...defaultConfig(), ...opts.config },
    cloud: opts.cloud ?? AzureCloud,
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.envProxy ? { envProxy: opts.envProxy } : {}),
    ...(opts.upstreamCa ? { upstreamCa: opts.upstreamCa } : {}),
  });
  const { port } = await proxy.listen(0);
  return { proxy, port, url: `http://127.0.0.1:${port}`, lines, close: () => proxy.close(100) };
}

export interface Pki {
  dir: string;
  caFile: string;
  ca: string;
  certFile: string;
  keyFile: string;
}

/**
 * A CA and a server certificate, made with openssl now: by default "test CA" and a certificate for
 * localhost / 127.0.0.1; `hosts` names the server otherwise (the first is its CN).
 */
export function makePki(o: { caSubject?: string; hosts?: string[] } = {}): Pki {
  const dir = tempDir('azcm-pki-');
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const hosts = o.hosts ?? ['localhost'];
  const names = o.hosts ? hosts.map((h) => `DNS:${h}`) : ['DNS:localhost', 'IP:127.0.0.1'];
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    o.caSubject ?? '/CN=test CA',
  );
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    `/CN=${hosts[0]}`,
  );
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=${names.join(',')}\n`);
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  );
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
  };
}

/** Runs curl; resolves with its exit code, stdout and stderr (never throws on a non-zero exit). */
export async function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP('curl', ['-sS', '--max-time', '20', ...args], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Sends raw bytes to a port and collects everything until the peer closes (or `ms` passes). */
export function rawExchange(port: number, data: string | Buffer, ms = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve(out);
    }, ms);
    s.on('connect', () => s.write(data));
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('error', (err) => {
      clearTimeout(timer);
      if (out) resolve(out);
      else reject(err);
    });
  });
}

/** The JSON error body and code header of a raw HTTP response. */
export function parseRawError(raw: string): {
  status: number;
  code: string | undefined;
  body: { error?: { code: string; message: string; action: string } };
} {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]);
  const code = /x-arc-proxy-error: (\S+)/i.exec(head)?.[1];
  let parsed = {};
  try {
    parsed = JSON.parse(body) as object;
  } catch {
    // not JSON
  }
  return { status, code, body: parsed };
}

/** Polls `check` until it is true or `ms` passes. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
