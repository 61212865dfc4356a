// Opening the connection a route asks for: straight to the destination (through the cloud profile's
// resolve map, if it names the host), through the enterprise proxy, or through the Arc gateway.
// Socket errors become stable codes.
import net from 'node:net';
import { AgentError } from '../core/index.ts';
import {
  type ClientIdentity,
  type GatewayTlsCache,
  type Tunnel,
  dialError,
  openGatewayTunnel,
  openUpstreamTunnel,
  resolveTarget,
} from '../gateway-client/index.ts';
import type { Route } from './route.ts';
import { type Target, formatTarget } from './target.ts';

export interface DialOptions {
  connectTimeoutMs: number;
  /** host -> `127.0.0.1:port` from the cloud profile (the local cloud). */
  resolve: Record<string, string> | undefined;
  /** Extra CAs for TLS to an https:// enterprise proxy. */
  upstreamCa: string | Buffer | undefined;
  /** The cloud's CA, which the gateway's certificate must chain to; the system's roots when absent. */
  gatewayCa: string | Buffer | undefined;
  /** The machine certificate to present to the gateway, as it is now (none before connect). */
  identity: () => ClientIdentity | undefined;
  /** TLS contexts and session tickets for the gateway, kept across tunnels. */
  gatewayTls: GatewayTlsCache;
}

export type DialResult = Tunnel;

export function dial(route: Route, target: Target, opts: DialOptions): Promise<DialResult> {
  if (route.kind === 'upstream') {
    return openUpstreamTunnel(route.proxy, target, { timeoutMs: opts.connectTimeoutMs, ca: opts.upstreamCa });
  }
  if (route.kind === 'gateway') {
    return openGatewayTunnel(route.gateway, target, gatewayTunnelOptions(route.via, opts));
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

export const gatewayTunnelOptions = (via: Extract<Route, { kind: 'gateway' }>['via'], opts: DialOptions) => ({
  via,
  resolve: opts.resolve,
  ca: opts.gatewayCa,
  identity: opts.identity(),
  connectTimeoutMs: opts.connectTimeoutMs,
  tls: opts.gatewayTls,
  upstreamCa: opts.upstreamCa,
});
