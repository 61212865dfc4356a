// Keep-alive connections for forwarded requests, by key: one destination (direct, or a tunnel through
// the Arc gateway to it), or one enterprise proxy (which takes requests for any destination). A
// connection serves one exchange at a time; between exchanges it waits here, at most `idleMs`, and
// any byte it receives then (or its close) retires it.
import type { Socket } from 'node:net';

/** What a pooled connection is serving: its bytes, and its end. */
export interface Exchange {
  onData(chunk: Buffer): void;
  /** The connection closed; `err` if it failed. */
  onClose(err: Error | undefined): void;
}

export interface Upstream {
  readonly socket: Socket;
  readonly key: string;
  /** Whether it served an exchange before this one (a stale keep-alive connection may fail at once). */
  reused: boolean;
  exchange: Exchange | undefined;
  readonly generation: number;
  idleSince: number;
  closed: boolean;
  error: Error | undefined;
}

export class UpstreamPool {
  private readonly idle = new Map<string, Upstream[]>();
  private generation = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly idleMs: number) {
    this.timer = setInterval(() => this.sweep(), Math.max(100, Math.min(1_000, idleMs / 2)));
    this.timer.unref();
  }

  /** An idle connection for `key`, unless `fresh`; else a new one from `open`. */
  acquire(
    key: string,
    open: () => Promise<Socket>,
    fresh: boolean,
    done: (err: Error | undefined, upstream?: Upstream) => void,
  ): void {
    const list = fresh ? undefined : this.idle.get(key);
    while (list && list.length > 0) {
      const upstream = list.pop()!;
      if (upstream.closed || upstream.generation !== this.generation) continue;
      upstream.reused = true;
      done(undefined, upstream);
      return;
    }
    const generation = this.generation;
    open().then(
      (socket) => done(undefined, this.adopt(key, socket, generation)),
      (err: Error) => done(err),
    );
  }

  private adopt(key: string, socket: Socket, generation: number): Upstream {
    const upstream: Upstream = {
      socket,
      key,
      reused: false,
      exchange: undefined,
      generation,
      idleSince: 0,
      closed: false,
      error: undefined,
    };
    socket.on('data', (chunk: Buffer) => {
      if (upstream.exchange) upstream.exchange.onData(chunk);
      else socket.destroy(); // nothing is asked of an idle connection
    });
    socket.on('error', (err) => {
      upstream.error ??= err;
    });
    // Sockets are half-open capable (as for tunnels); a forwarded exchange has no use for one.
    socket.on('end', () => socket.destroy());
    socket.once('close', () => {
      upstream.closed = true;
      const exchange = upstream.exchange;
      upstream.exchange = undefined;
      exchange?.onClose(upstream.error);
    });
    socket.resume(); // a hop that read its own answer head may have left it paused
    return upstream;
  }

  /** Back to the pool after a complete exchange, or closed if the pool has moved on. */
  release(upstream: Upstream): void {
    upstream.exchange = undefined;
    if (upstream.closed || upstream.generation !== this.generation) {
      upstream.socket.destroy();
      return;
    }
    if (upstream.socket.isPaused()) upstream.socket.resume();
    upstream.idleSince = Date.now();
    let list = this.idle.get(upstream.key);
    if (!list) this.idle.set(upstream.key, (list = []));
    list.push(upstream);
  }

  /** Closes idle connections; those in use close when their exchange ends (for a new policy). */
  retire(): void {
    this.generation++;
    for (const list of this.idle.values()) for (const upstream of list) upstream.socket.destroy();
    this.idle.clear();
  }

  private sweep(): void {
    const oldest = Date.now() - this.idleMs;
    for (const [key, list] of this.idle) {
      const keep: Upstream[] = [];
      for (const u of list) {
        if (!u.closed && u.idleSince > oldest) keep.push(u);
        else u.socket.destroy();
      }
      if (keep.length > 0) this.idle.set(key, keep);
      else this.idle.delete(key);
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.retire();
  }
}
