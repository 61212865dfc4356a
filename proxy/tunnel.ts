// CONNECT tunnels (RFC 9110 section 9.3.6): decide the route, dial it, answer 200, then relay bytes
// both ways, half-closes included: pipe(), except from a direct destination, which is read in large
// reads straight into what is written to the client (destinationReads). The relay does no per-chunk
// accounting: payload counts come from the client socket's byte counters at close.
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
import { formatTarget, parseAuthority } from './target.ts';

export interface TunnelDeps {
  policy: () => RoutePolicy;
  dialOptions: () => DialOptions;
  idleTimeoutMs: number;
  log: Logger;
  /** Open tunnels by client socket, so that shutdown can drain them and the meter can see them live. */
  tunnels: Map<Socket, OpenTunnel | undefined>;
}

/** A relaying tunnel: who, where, and the socket counters its payload is measured from. */
export interface OpenTunnel {
  client: string;
  destination: string;
  route: MeterRoute;
  socket: Socket;
  readBase: number;
  writeBase: number;
}

/** Payload of open tunnels so far, for a live view of the meter. */
export const inFlight = (tunnels: Map<Socket, OpenTunnel | undefined>) =>
  [...tunnels.values()].flatMap((t) =>
    t
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
  const readBase = socket.bytesRead - head.length;
  socket.on('error', () => {}); // a reset client is handled at close
  deps.tunnels.set(socket, undefined);
  const reads = decision.kind === 'direct' ? destinationReads() : undefined;
  dial(decision, target, deps.dialOptions(), reads?.onread).then(
    ({ socket: upstream, head: upstreamHead }) => {
      if (socket.destroyed) {
        upstream.destroy();
        reads?.release();
        deps.tunnels.delete(socket);
        return;
      }
      socket.write(ESTABLISHED);
      relay({
        socket,
        upstream,
        head,
        upstreamHead,
        readBase,
        writeBase: socket.bytesWritten,
        client,
        destination,
        route: decision.kind,
        wouldDeny: decision.wouldDeny,
        reads,
        deps,
      });
    },
    (err: unknown) => {
      deps.tunnels.delete(socket);
      const agentErr = err instanceof AgentError ? err : new AgentError('INTERNAL', String(err));
      refuse(agentErr, destination, decision.kind, decision.wouldDeny);
    },
  );
}

interface RelayArgs {
  socket: Socket;
  upstream: Socket;
  head: Buffer;
  upstreamHead: Buffer;
  readBase: number;
  writeBase: number;
  client: string;
  destination: string;
  route: MeterRoute;
  wouldDeny: boolean;
  /** How the destination is read, for a direct tunnel; piped otherwise. */
  reads: DestinationReads | undefined;
  deps: TunnelDeps;
}

function relay(a: RelayArgs): void {
  const { socket, upstream, deps } = a;
  deps.tunnels.set(socket, {
    client: a.client,
    destination: a.destination,
    route: a.route,
    socket,
    readBase: a.readBase,
    writeBase: a.writeBase,
  });
  let code: AgentError['code'] | undefined;
  let open = 2;
  const onClose = () => {
    if (--open > 0) return;
    deps.tunnels.delete(socket);
    a.reads?.release();
    const sent = socket.bytesRead - a.readBase;
    const received = socket.bytesWritten - a.writeBase;
    deps.log.debug(
      { client: a.client, destination: a.destination, route: a.route, sent, received, code },
      'tunnel closed',
    );
    publishTraffic({
      client: a.client,
      destination: a.destination,
      route: a.route,
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
  socket.once('close', onClose);
  upstream.once('close', onClose);
  // A side closed without passing on a FIN (destroyed: a reset, or our own shutdown) takes the other
  // down; one whose FIN pipe() relayed is left to flush and close by itself.
  socket.once('close', () => upstream.writableEnded || upstream.destroy());
  upstream.once('close', () => socket.writableEnded || socket.destroy());
  socket.on('error', teardown);
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    code ??= 'ARCPROXY_UPSTREAM_RESET';
    deps.log.debug({ destination: a.destination, err: err.code }, 'destination connection failed');
    teardown();
  });
  socket.setTimeout(deps.idleTimeoutMs, () => {
    code = 'ARCPROXY_TUNNEL_IDLE';
    deps.log.info({ client: a.client, destination: a.destination, code }, 'tunnel closed after being idle');
    teardown();
  });
  if (a.upstreamHead.length) socket.write(a.upstreamHead);
  if (a.head.length) upstream.write(a.head);
  if (a.reads) a.reads.relayTo(socket, upstream);
  else upstream.pipe(socket);
  socket.pipe(upstream);
  upstream.resume();
}

/** What every direct tunnel reads into until its reads fill it; copied out at once. */
const sharedRead = Buffer.allocUnsafe(64 * 1024);
const BULK_READ = 4 * 1024 * 1024;
/** Tunnels that may hold a bulk buffer at once (16 MiB in all); the others read 64 KiB at a time. */
const MAX_BULK_TUNNELS = 4;
let bulkTunnels = 0;

interface DestinationReads {
  onread: OnReadOpts;
  /** From now on, what the destination sends goes to `client`, and its end ends `client`. */
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
      from.once('end', () => to.end());
    },
    release() {
      if (!bulk) return;
      bulk = undefined;
      bulkTunnels--;
    },
  };
}
