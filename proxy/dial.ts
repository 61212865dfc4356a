// Opening the connection a route asks for: straight to the destination (through the cloud profile's
// resolve map, if it names the host), or through the enterprise proxy. Socket errors become stable codes.
import net from 'node:net';
import { AgentError } from '../core/index.ts';
import type { Route } from './route.ts';
import type { Target } from './target.ts';
import { formatTarget } from './target.ts';
import { openUpstreamTunnel } from './upstream.ts';
import { dialError } from './dial-error.ts';

export interface DialOptions {
  connectTimeoutMs: number;
  /** host -> `127.0.0.1:port` from the cloud profile (the local cloud). */
  resolve: Record<string, string> | undefined;
  /** Extra CAs for TLS to an https:// enterprise proxy. */
  upstreamCa: string | Buffer | undefined;
}

export interface DialResult {
  socket: net.Socket;
  overheadWritten: number;
  overheadRead: number;
  head: Buffer;
}

/** Where a host really is: the resolve map's address if it names the host, else the host itself. */
export function resolveTarget(target: Target, resolve: Record<string, string> | undefined): Target {
  const mapped = resolve?.[target.host] ?? resolve?.[formatTarget(target)];
  if (!mapped) return target;
  const colon = mapped.lastIndexOf(':');
  return { host: mapped.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(mapped.slice(colon + 1)) };
}

export function dial(route: Route, target: Target, opts: DialOptions): Promise<DialResult> {
  if (route.kind === 'upstream') {
    return openUpstreamTunnel(route.proxy, target, { timeoutMs: opts.connectTimeoutMs, ca: opts.upstreamCa });
  }
  if (route.kind === 'gateway') {
    return Promise.reject(new AgentError('INTERNAL', 'the gateway route is not built yet'));
  }
  const { host, port } = resolveTarget(target, opts.resolve);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new AgentError('ARCPROXY_UPSTREAM_TIMEOUT', `connecting to ${formatTarget(target)}`));
    }, opts.connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve({ socket, overheadWritten: 0, overheadRead: 0, head: Buffer.alloc(0) });
    });
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(dialError(err, formatTarget(target)));
    };
    socket.once('error', onError);
  });
}
