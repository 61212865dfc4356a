// CONNECT tunnels (RFC 9110 section 9.3.6): decide the route, dial it, answer 200, then relay bytes
// both ways, half-closes included, each read written on as it is and reading paused while the other
// side is full; a direct destination is read in large reads straight into what is written to the
// client (destinationReads). The relay does no per-chunk accounting: payload counts come from the
// client socket's byte counters at close.
//
//   direct:    client --CONNECT--> Arc Proxy ----TCP----> destination
//   upstream:  client --CONNECT--> Arc Proxy --[TLS]--> enterprise proxy --CONNECT--> destination
//   gateway:   client --CONNECT--> Arc Proxy [--> enterprise proxy --CONNECT-->] gateway ==TLS== CONNECT --> destination
import type { OnReadOpts, Socket } from 'node:net';
import { AgentError, type Logger } from '../core/index.ts';
import { clientIdOf } from './client-id.ts';
import { type DialOptions, dial } from './dial.ts';
import { type MeterRoute, publishRefusal, publishTraffic } from './meter.ts';
import { replyOnSocket } from './reply.ts';
import { type RoutePolicy, decideRoute } from './route.ts';
import type { Member, OpenList } from './open-list.ts';
import { formatTarget, parseAuthority } from './target.ts';

export interface TunnelDeps {
  policy: () => RoutePolicy;
  dialOptions: () => DialOptions;
  idleTimeoutMs: number;
  log: Logger;
  /** Tunnels from their CONNECT to their close, so that shutdown can drain them and the meter can see them live. */
  tunnels: OpenList<OpenTunnel>;
}

/** A tunnel: who, where, and once it relays, the socket counters its payload is measured from. */
export interface OpenTunnel extends Member {
  client: string;
  destination: string;
  route: MeterRoute;
  socket: Socket;
  /** False while the route is being dialled. */
  relaying: boolean;
  readBase: number;
  writeBase: number;
}

/** Payload of open tunnels so far, for a live view of the meter. */
export const inFlight = (tunnels: OpenList<OpenTunnel>) =>
  tunnels.toArray().flatMap((t) =>
    t.relaying
      ? [
          {
            client: t.client,
            destination: t.destination,
            route: t.route,
            sent: t.socket.bytesRead - t.readBase,
            received: t.socket.bytesWritten - t.writeBase,
          },
        ]
      : [],
  );

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

/** `authority`: the CONNECT request's target; `head`: what the client sent after the request head. */
export function handleConnect(
  authority: string,
  proxyAuthorization: string | undefined,
  socket: Socket,
  head: Buffer,
  deps: TunnelDeps,
): void {
  const client = clientIdOf(proxyAuthorization);
  const target = parseAuthority(authority);
  const refuse = (err: AgentError, destination: string, route: MeterRoute, wouldDeny = false) => {
    deps.log.warn({ client, destination, route, code: err.code }, err.message);
    publishRefusal(err.code, { client, destination, route, wouldDeny });
    replyOnSocket(socket, err);
  };
  if (!target) {
    refuse(new AgentError('ARCPROXY_BAD_TARGET', JSON.stringify(authority.slice(0, 100))), '-', 'none');
    return;
  }
  const destination = formatTarget(target);
  const decision = decideRoute(target, client, deps.policy());
  if (decision.kind === 'deny') {
    refuse(
      new AgentError('ARCPROXY_DENIED', decision.reason, { action: decision.allowCommand }),
      destination,
      'deny',
    );
    return;
  }
  if (decision.wouldDeny)
    deps.log.warn(
      { client, destination, mode: 'audit' },
      'would deny: destination is not in the endpoint allow-list',
    );
  // Everything the client sends after the CONNECT head is payload: `head` already, the rest to come.
  const tunnel: OpenTunnel = {
    slot: -1,
    client,
    destination,
    route: decision.kind,
    socket,
    relaying: false,
    readBase: socket.bytesRead - head.length,
    writeBase: 0,
  };
  deps.tunnels.add(tunnel);
  const reads = decision.kind === 'direct' ? destinationReads() : undefined;
  dial(decision, target, deps.dialOptions(), reads?.onread).then(
    ({ socket: upstream, head: upstreamHead }) => {
      if (socket.destroyed) {
        upstream.destroy();
        reads?.release();
        deps.tunnels.delete(tunnel);
        return;
      }
      socket.write(ESTABLISHED);
      tunnel.writeBase = socket.bytesWritten;
      tunnel.relaying = true;
      relay(tunnel, upstream, { head, upstreamHead, wouldDeny: decision.wouldDeny, reads, deps });
    },
    (err: unknown) => {
      deps.tunnels.delete(tunnel);
      const agentErr = err instanceof AgentError ? err : new AgentError('INTERNAL', String(err));
      refuse(agentErr, destination, decision.kind, decision.wouldDeny);
    },
  );
}

interface RelayArgs {
  /** What the client sent after its CONNECT head, and what came with the hop's answer head. */
  head: Buffer;
  upstreamHead: Buffer;
  wouldDeny: boolean;
  /** How the destination is read, for a direct tunnel; with 'data' events otherwise. */
  reads: DestinationReads | undefined;
  deps: TunnelDeps;
}

function relay(t: OpenTunnel, upstream: Socket, a: RelayArgs): void {
  const { socket } = t;
  const { deps } = a;
  let code: AgentError['code'] | undefined;
  let open = 2;
  // A side that closed without its FIN having been passed on (a reset, or our own shutdown) takes
  // the other down; one whose FIN was passed on is left to flush and close by itself.
  const closed = (other: Socket) => () => {
    if (!other.writableEnded) other.destroy();
    if (--open > 0) return;
    deps.tunnels.delete(t);
    a.reads?.release();
    const sent = socket.bytesRead - t.readBase;
    const received = socket.bytesWritten - t.writeBase;
    deps.log.debug(
      { client: t.client, destination: t.destination, route: t.route, sent, received, code },
      'tunnel closed',
    );
    publishTraffic({
      client: t.client,
      destination: t.destination,
      route: t.route,
      kind: 'tunnel',
      sent,
      received,
      denied: false,
      wouldDeny: a.wouldDeny,
      code,
    });
  };
  const teardown = () => {
    socket.destroy();
    upstream.destroy();
  };
  socket.once('close', closed(upstream));
  upstream.once('close', closed(socket));
  socket.on('error', teardown);
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    code ??= 'ARCPROXY_UPSTREAM_RESET';
    deps.log.debug({ destination: t.destination, err: err.code }, 'destination connection failed');
    teardown();
  });
  socket.setTimeout(deps.idleTimeoutMs, () => {
    code = 'ARCPROXY_TUNNEL_IDLE';
    deps.log.info({ client: t.client, destination: t.destination, code }, 'tunnel closed after being idle');
    teardown();
  });
  if (a.upstreamHead.length) socket.write(a.upstreamHead);
  if (a.head.length) upstream.write(a.head);
  if (a.reads) a.reads.relayTo(socket, upstream);
  else forward(upstream, socket);
  forward(socket, upstream);
  passEndOf(socket, upstream);
  passEndOf(upstream, socket);
  socket.resume();
  upstream.resume();
}

/** What `from` sends is written to `to`, and `from` is read no faster than `to` takes it. */
function forward(from: Socket, to: Socket): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', () => from.resume());
}

/**
 * The FIN of `from`, when it comes (or at once, if it came while the tunnel was being dialled), is
 * passed on to `to`. When `to` had sent its own already, it is done both ways: a plain TCP socket
 * with nothing left to write closes outright (close() sends the same FIN, and spares node's shutdown
 * request and a system call); a TLS socket ends, so that its peer gets close_notify.
 */
function passEndOf(from: Socket, to: Socket): void {
  const pass = () => {
    if (to.readableEnded && to.writableLength === 0 && !(to as { encrypted?: boolean }).encrypted)
      to.destroy();
    else to.end();
  };
  if (from.readableEnded) pass();
  else from.once('end', pass);
}

/** What every direct tunnel reads into until its reads fill it; copied out at once. */
const sharedRead = Buffer.allocUnsafe(64 * 1024);
const BULK_READ = 4 * 1024 * 1024;
/** Tunnels that may hold a bulk buffer at once (16 MiB in all); the others read 64 KiB at a time. */
const MAX_BULK_TUNNELS = 4;
let bulkTunnels = 0;

interface DestinationReads {
  onread: OnReadOpts;
  /** From now on, what the destination sends goes to `client` (its end is passed on by the relay). */
  relayTo(client: Socket, destination: Socket): void;
  /** The tunnel is closed: its bulk buffer goes back to the pool of four. */
  release(): void;
}

/**
 * How a direct tunnel reads its destination. node reads at most 64 KiB at a time, so a download
 * costs a read, a write and a callback per 64 KiB. Here, once a read fills 64 KiB, the tunnel reads
 * up to 4 MiB at a time into a buffer of its own, if fewer than MAX_BULK_TUNNELS others hold one
 * (bulk through the Arc Proxy: 0.17 of direct with pipe(), 0.4 with 1 MiB, ~0.5 with 4 MiB).
 * That buffer is written to the client as it is, so the next read waits until the client's socket
 * has taken all of it. Smaller reads go through one shared 64 KiB buffer, copied out, with pipe()'s
 * back-pressure: a fresh 64 KiB buffer per read made V8 collect garbage far more (tunnels/s -11%).
 */
function destinationReads(): DestinationReads {
  let bulk: Buffer | undefined;
  let bulkReads = false;
  let client: Socket | undefined;
  let destination: Socket | undefined;
  const early: Buffer[] = [];
  const onread: OnReadOpts = {
    buffer: () => {
      if (bulkReads && !bulk && bulkTunnels < MAX_BULK_TUNNELS) {
        bulk = Buffer.allocUnsafe(BULK_READ);
        bulkTunnels++;
      }
      return bulkReads && bulk ? bulk : sharedRead;
    },
    callback: (n, buf) => {
      if (n === buf.length) bulkReads = true;
      // Out of the shared buffer, a copy (exact size, pooled when small), since every tunnel reads into it.
      const chunk = buf === bulk ? bulk.subarray(0, n) : Buffer.from((buf as Buffer).subarray(0, n));
      if (!client) {
        early.push(buf === bulk ? Buffer.from(chunk) : chunk); // before the 200
        return true;
      }
      let waiting = false;
      const flowing = client.write(chunk, () => {
        if (waiting) destination?.resume();
      });
      if (buf === bulk ? client.writableLength === 0 : flowing) return true;
      waiting = true;
      return false; // pauses reading until that write is done
    },
  };
  return {
    onread,
    relayTo(to, from) {
      client = to;
      destination = from;
      for (const chunk of early.splice(0)) to.write(chunk);
    },
    release() {
      if (!bulk) return;
      bulk = undefined;
      bulkTunnels--;
    },
  };
}
