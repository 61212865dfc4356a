// Opening the connection a route asks for: straight to the destination (through the cloud profile's
// resolve map, if it names the host), through the enterprise proxy, or through the Arc gateway.
// Socket errors become stable codes.
import type { OnReadOpts } from 'node:net';
import { AgentError } from '../core/index.ts';
import {
  type ClientIdentity,
  type GatewayTlsCache,
  type Tunnel,
  connectTcp,
  dialError,
  openGatewayTunnel,
  openUpstreamTunnel,
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

/** `onread`: for a direct connection only, how the destination's bytes are read (see tunnel.ts). */
export function dial(
  route: Route,
  target: Target,
  opts: DialOptions,
  onread?: OnReadOpts,
): Promise<DialResult> {
  if (route.kind === 'upstream') {
    return openUpstreamTunnel(route.proxy, target, { timeoutMs: opts.connectTimeoutMs, ca: opts.upstreamCa });
  }
  if (route.kind === 'gateway') {
    return openGatewayTunnel(route.gateway, target, gatewayTunnelOptions(route.via, opts));
  }
  const dest = formatTarget(target);
  return connectTcp(target, {
    resolve: opts.resolve,
    timeoutMs: opts.connectTimeoutMs,
    onread,
    failed: (err) =>
      err.code === 'ETIMEDOUT'
        ? new AgentError('ARCPROXY_UPSTREAM_TIMEOUT', `connecting to ${dest}`)
        : dialError(err, dest),
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
