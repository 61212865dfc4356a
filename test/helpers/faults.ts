// Faulty peers and raw clients for the Arc Proxy's fault tests: a port that refuses, peers that accept
// and never answer, reset, or answer a fixed status (407, 403, over untrusted TLS), a slow endless
// download, a raw client socket that reads up to a marker and sees EOF, and the probes for leaks
// (handles, forced GC). Everything listens on 127.0.0.1, port 0.
import http, { STATUS_CODES } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import v8 from 'node:v8';
import vm from 'node:vm';
import { expect } from 'vitest';
import { AzureCloud, createLogger, defaultConfig } from '../../core/index.ts';
import { createArcProxy, type ArcProxy, type ProxyLimits } from '../../proxy/index.ts';
import { closeServer, listen, parseRawError } from './world.ts';

/**
 * An Arc Proxy like world.ts's startProxy, but its logger writes every line (debug level) and keeps
 * none, so that heap measurements see the proxy's memory and not the test's log buffer.
 */
export async function startQuietProxy(limits?: Partial<ProxyLimits>): Promise<{
  proxy: ArcProxy;
  port: number;
  close: () => Promise<void>;
}> {
  const log = createLogger({
    name: 'test',
    level: 'debug',
    destination: { write: () => {} },
  });
  const proxy = createArcProxy({
    log,
    config: defaultConfig(),
    cloud: AzureCloud,
    ...(limits ? { limits } : {}),
  });
  const { port } = await proxy.listen(0);
  return { proxy, port, close: () => proxy.close(100) };
}

/** A port that was just listening and is closed now, so connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

export interface SilentServer {
  port: number;
  /** Everything each accepted connection sent, in order of arrival. */
  received: () => string[];
  close: () => Promise<void>;
}

/** Accepts TCP connections, reads what comes, and never answers: an origin or proxy that hangs. */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  const received: string[] = [];
  const server = net.createServer((s) => {
    const i = received.push('') - 1;
    sockets.add(s);
    s.on('data', (d: Buffer) => (received[i] += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  const port = await listen(server);
  return {
    port,
    received: () => [...received],
    close: () => {
      for (const s of sockets) s.destroy();
      return closeServer(server);
    },
  };
}

/**
 * An enterprise proxy that reads each request head (CONNECT or absolute-form) and answers `status`
 * with a short body, then closes. Over TLS when given a certificate and key.
 */
export async function startAnsweringProxy(
  status: number,
  opts: { headers?: string; tls?: { cert: string; key: string } } = {},
): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  const received: string[] = [];
  const onSocket = (s: net.Socket) => {
    const i = received.push('') - 1;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.on('data', (d: Buffer) => {
      received[i] += d.toString('latin1');
      if (!received[i]!.includes('\r\n\r\n')) return;
      const body = `answer ${status}\n`;
      s.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Status'}\r\n${opts.headers ?? ''}` +
          `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
  };
  const server = opts.tls
    ? tls.createServer({ cert: opts.tls.cert, key: opts.tls.key }, onSocket)
    : net.createServer(onSocket);
  server.on('tlsClientError', () => {});
  const port = await listen(server);
  return {
    port,
    received: () => [...received],
    close: () => {
      for (const s of sockets) s.destroy();
      return closeServer(server);
    },
  };
}

/** An enterprise proxy that answers 407 Proxy Authentication Required to everything. */
export const startAuthDemandingProxy = (): Promise<SilentServer> =>
  startAnsweringProxy(407, { headers: 'Proxy-Authenticate: Basic realm="corp"\r\n' });

/** A destination that accepts, and resets the connection (RST) as soon as the client sends a byte. */
export async function startResettingServer(): Promise<SilentServer> {
  const received: string[] = [];
  const server = net.createServer((s) => {
    const i = received.push('') - 1;
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      received[i] += d.toString('latin1');
      s.resetAndDestroy();
    });
  });
  const port = await listen(server);
  return { port, received: () => [...received], close: () => closeServer(server) };
}

/**
 * An HTTP origin that answers `GET /stream/N` with N bytes (Content-Length), 16 KiB every 10 ms: a
 * large download that stays in progress for a long time, without the origin holding N bytes in
 * memory or the test moving gigabytes. `open()` counts the origin's connections still open.
 */
export async function startStreamingOrigin(): Promise<{
  port: number;
  open: () => number;
  close: () => Promise<void>;
}> {
  const chunk = Buffer.alloc(16 * 1024, 'z');
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const total = Number(/^\/stream\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 0);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
    let left = total;
    let pending: NodeJS.Timeout | undefined;
    // A pump scheduled before the client left would outlive its connection by up to 10 ms.
    res.once('close', () => {
      if (pending) clearTimeout(pending);
      if (pending) timers.delete(pending);
    });
    const pump = () => {
      if (res.destroyed) return;
      const n = Math.min(left, chunk.length);
      left -= n;
      if (left === 0) return void res.end(chunk.subarray(0, n));
      const next = () => {
        const t = setTimeout(() => {
          timers.delete(t);
          pending = undefined;
          pump();
        }, 10);
        timers.add(t);
        pending = t;
      };
      if (res.write(chunk.subarray(0, n))) next();
      else res.once('drain', next);
    };
    pump();
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await listen(server);
  return {
    port,
    open: () => sockets.size,
    close: () => {
      for (const t of timers) clearTimeout(t);
      return closeServer(server);
    },
  };
}

/** A raw client connection that keeps what it reads, for protocol-level assertions. */
export class RawClient {
  readonly socket: net.Socket;
  private data = Buffer.alloc(0);
  private ended = false;
  private closed = false;
  private readonly waiters = new Set<() => void>();

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.data = Buffer.concat([this.data, d]);
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  /** Connects with allowHalfOpen, so that the peer's EOF does not end our side. */
  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RawClient(s));
      });
      s.once('error', reject);
    });
  }

  /** Opens a CONNECT tunnel and resolves once the proxy's answer head has arrived. */
  static async tunnel(proxyPort: number, target: string): Promise<{ client: RawClient; head: string }> {
    const client = await RawClient.connect(proxyPort);
    client.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    const head = await client.readUntil('\r\n\r\n');
    return { client, head };
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  text(): string {
    return this.data.toString('latin1');
  }

  get isEnded(): boolean {
    return this.ended;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves with everything read up to and including `marker`, and drops it from the buffer. */
  async readUntil(marker: string, ms = 5_000): Promise<string> {
    await this.until(() => this.data.includes(marker), ms, JSON.stringify(marker));
    const end = this.data.indexOf(marker) + Buffer.byteLength(marker);
    const out = this.data.subarray(0, end).toString('latin1');
    this.data = this.data.subarray(end);
    return out;
  }

  /** Resolves with everything read once `n` bytes are buffered. */
  async readBytes(n: number, ms = 5_000): Promise<Buffer> {
    await this.until(() => this.data.length >= n, ms, `${n} bytes`);
    const out = this.data.subarray(0, n);
    this.data = this.data.subarray(n);
    return out;
  }

  /** Resolves once the peer has sent EOF (a FIN), with whatever arrived before it. */
  async waitEnd(ms = 5_000): Promise<string> {
    await this.until(() => this.ended || this.closed, ms, 'EOF');
    return this.text();
  }

  async waitClose(ms = 5_000): Promise<void> {
    await this.until(() => this.closed, ms, 'close');
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Closes with a TCP RST instead of a FIN, as a crashed or killed client does. */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  /** The start of what was read, for error messages. */
  private sample(): string {
    const text = this.text();
    return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}... (${text.length} bytes)` : text);
  }

  private until(check: () => boolean, ms: number, what: string): Promise<void> {
    if (check()) return Promise.resolve();
    if (this.closed)
      return Promise.reject(new Error(`connection closed before ${what}; got ${this.sample()}`));
    return new Promise((resolve, reject) => {
      const waiter = () => {
        if (check()) done(undefined);
        else if (this.closed) done(new Error(`connection closed before ${what}; got ${this.sample()}`));
      };
      const timer = setTimeout(() => done(new Error(`no ${what} within ${ms} ms; got ${this.sample()}`)), ms);
      const done = (err: Error | undefined) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        if (err) reject(err);
        else resolve();
      };
      this.waiters.add(waiter);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** How often the meter counted `code`, over all its entries. */
export function meterErrors(proxy: ArcProxy, code: string): number {
  return proxy.meter.snapshot().entries.reduce((n, e) => n + (e.errors[code] ?? 0), 0);
}

/** The log lines (pino JSON) at `minLevel` or above (30 is info) whose `code` field is `code`. */
export function logLinesWith(lines: string, code: string, minLevel = 30): Record<string, unknown>[] {
  return lines
    .split('\n')
    .filter((l) => l.includes(code))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.code === code && Number(l.level) >= minLevel);
}

/** Node's `gc()`, made available without a command-line flag (vitest's forks share one execArgv). */
export function forceGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** Counts of `process.getActiveResourcesInfo()` by kind, e.g. { TCPSocketWrap: 3, Timeout: 1 }. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/**
 * Asserts a raw HTTP answer is the refusal a client should see: the status, the stable code in the
 * X-Arc-Proxy-Error header and the same code in the JSON body, with a message and an action.
 */
export function expectRefusal(
  raw: string,
  status: number,
  code: string,
): { message: string; action: string } {
  const answer = parseRawError(raw);
  expect(answer.status, raw).toBe(status);
  expect(answer.code, raw).toBe(code);
  expect(answer.body.error?.code, raw).toBe(code);
  expect(answer.body.error?.message, raw).toEqual(expect.any(String));
  expect(answer.body.error?.message.length).toBeGreaterThan(0);
  expect(answer.body.error?.action.length).toBeGreaterThan(0);
  expect(raw).toMatch(/\r\nconnection: close\r\n/i);
  return { message: answer.body.error!.message, action: answer.body.error!.action };
}
