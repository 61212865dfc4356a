// Absolute-form HTTP forwarding (RFC 9112 section 3.2.2): `GET http://host/path` from the client goes
// to the destination (or to the enterprise proxy, still in absolute form, or in origin form through a
// tunnel of the Arc gateway to the destination) over pooled keep-alive connections. Hop-by-hop headers are dropped both ways (RFC 9110 section 7.6.1), Via is added.
// node:http on both legs: its parser is native, and the proxy's idle memory stays small.
import http, {
  type IncomingMessage,
  type ServerResponse,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http';
import type { Duplex } from 'node:stream';
import { AgentError, type Logger } from '../core/index.ts';
import {
  type Gateway,
  dialError,
  gatewayAuthority,
  openGatewayTunnel,
  resolveTarget,
  upstreamProxyError,
} from '../gateway-client/index.ts';
import { clientIdOf } from './client-id.ts';
import { type DialOptions, gatewayTunnelOptions } from './dial.ts';
import { type MeterRoute, publishRefusal, publishTraffic } from './meter.ts';
import { replyOnResponse } from './reply.ts';
import { type Route, type RoutePolicy, type UpstreamProxy, decideRoute } from './route.ts';
import { type Target, formatTarget, parseAuthority } from './target.ts';

export interface ForwardDeps {
  policy: () => RoutePolicy;
  pools: ForwardPools;
  responseTimeoutMs: number;
  log: Logger;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);
const VIA = '1.1 arcproxy';

/** Request headers for the next hop: raw order and case kept, hop-by-hop and Connection-named ones dropped. */
function requestHeaders(req: IncomingMessage, host: string): string[] {
  const named = connectionTokens(req.headers.connection);
  const out: string[] = [];
  const raw = req.rawHeaders;
  let via: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named?.has(lower)) continue;
    if (lower === 'via') {
      via = via ? `${via}, ${raw[i + 1]}` : raw[i + 1];
      continue;
    }
    out.push(name, raw[i + 1]!);
  }
  out.push('host', host, 'via', via ? `${via}, ${VIA}` : VIA);
  return out;
}

function responseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionTokens(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || (HOP_BY_HOP.has(name) && name !== 'host') || named?.has(name)) continue;
    out[name] = value;
  }
  out['via'] = headers.via ? `${String(headers.via)}, ${VIA}` : VIA;
  return out;
}

function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (!value) return undefined;
  return new Set(
    String(value)
      .toLowerCase()
      .split(',')
      .map((t) => t.trim()),
  );
}

export function handleForward(req: IncomingMessage, res: ServerResponse, deps: ForwardDeps): void {
  const client = clientIdOf(req.headers['proxy-authorization']);
  let url: URL | undefined;
  try {
    url = new URL(req.url ?? '');
  } catch {
    // handled below
  }
  const target = url?.protocol === 'http:' ? parseAuthority(url.host, 80) : undefined;
  if (!url || !target) {
    const why = url
      ? `only http:// is forwarded; use CONNECT for ${url.protocol}// destinations`
      : 'not an absolute-form URL';
    refuse(req, res, deps.log, new AgentError('ARCPROXY_BAD_REQUEST', why), client, '-', 'none', false);
    return;
  }
  const destination = formatTarget(target);
  const decision = decideRoute(target, client, deps.policy());
  if (decision.kind === 'deny') {
    const err = new AgentError('ARCPROXY_DENIED', decision.reason, { action: decision.allowCommand });
    refuse(req, res, deps.log, err, client, destination, 'deny', false);
    return;
  }
  if (decision.wouldDeny) {
    deps.log.warn(
      { client, destination, mode: 'audit' },
      'would deny: destination is not in the endpoint allow-list',
    );
  }
  const route: MeterRoute = decision.kind;
  const proxy = decision.kind === 'upstream' ? decision.proxy : undefined;
  const routeTaken: Route = decision;
  let sent = 0;
  let received = 0;
  let finished = false;
  const done = (err?: AgentError) => {
    if (finished) return;
    finished = true;
    if (err) deps.log.warn({ client, destination, route, code: err.code }, err.message);
    publishTraffic({
      client,
      destination,
      route,
      kind: 'request',
      sent,
      received,
      denied: false,
      wouldDeny: decision.wouldDeny,
      code: err?.code,
    });
  };
  const hasBody =
    req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  const headers = requestHeaders(req, url.host);
  const send = (retry: boolean) => {
    const up = deps.pools.request(
      target,
      `${url.pathname}${url.search}`,
      url.href,
      req.method ?? 'GET',
      headers,
      routeTaken,
    );
    up.setTimeout(deps.responseTimeoutMs, () =>
      up.destroy(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })),
    );
    up.on('response', (upRes) => {
      upstreamRes = upRes;
      if (upRes.statusCode === 407 && proxy) {
        upRes.resume();
        fail(
          new AgentError('ARCPROXY_UPSTREAM_PROXY_AUTH', `${proxy.display} answered 407 for ${destination}`),
        );
        return;
      }
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, responseHeaders(upRes.headers));
      upRes.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (!res.write(chunk)) upRes.pause();
      });
      upRes.on('end', () => {
        res.end();
        done();
      });
      upRes.on('error', () => res.destroy());
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      // A pooled connection the destination closed as we reused it: safe to try once more without a body.
      if (retry && up.reusedSocket && err.code === 'ECONNRESET' && !hasBody && !res.headersSent) {
        send(false);
        return;
      }
      // No answer yet on a fresh connection: the failure is the enterprise proxy's (refused, TLS, ...).
      // Failures of the hops themselves (gateway, or the enterprise proxy on the way to it) carry their code.
      fail(
        err instanceof AgentError
          ? err
          : proxy && !up.reusedSocket && !upstreamRes
            ? upstreamProxyError(err, proxy)
            : dialError(err, destination),
      );
    });
    if (hasBody) {
      req.on('data', (chunk: Buffer) => {
        sent += chunk.length;
        if (!up.write(chunk)) req.pause();
      });
      up.on('drain', () => req.resume());
      req.on('end', () => up.end());
    } else {
      up.end();
    }
    current = up;
  };
  let current: http.ClientRequest | undefined;
  let upstreamRes: IncomingMessage | undefined;
  const fail = (err: AgentError) => {
    current?.destroy();
    if (res.destroyed || res.headersSent) {
      res.destroy();
      done(err);
      return;
    }
    done(err);
    replyOnResponse(res, err);
  };
  res.on('drain', () => upstreamRes?.resume());
  res.once('close', () => {
    if (!res.writableFinished) {
      current?.destroy();
      done();
    }
  });
  send(true);
}

function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  log: Logger,
  err: AgentError,
  client: string,
  destination: string,
  route: MeterRoute,
  wouldDeny: boolean,
): void {
  log.warn({ client, destination, route, code: err.code }, err.message);
  publishRefusal(err.code, { client, destination, route, wouldDeny });
  req.resume();
  replyOnResponse(res, err);
}

/** node:https only when an https:// enterprise proxy is configured: loading TLS costs idle memory. */
const lazyHttps = () => process.getBuiltinModule('node:https');

export interface PoolOptions {
  resolve: Record<string, string> | undefined;
  upstreamCa: string | Buffer | undefined;
  /** How long a pooled connection may sit idle before it is closed (under the usual 5 s of origins). */
  idleMs: number;
  /** How tunnels through the Arc gateway are opened (the same options as CONNECT tunnels). */
  dialOptions: DialOptions;
}

export interface ForwardPools {
  request(
    target: Target,
    path: string,
    absolute: string,
    method: string,
    headers: string[],
    route: Route,
  ): http.ClientRequest;
  /** Retires pools for enterprise proxies and gateways that the policy no longer uses. */
  retain(policy: RoutePolicy): void;
  close(): void;
}

/**
 * Connections of a pool that is no longer used: idle ones close now, busy ones when their request
 * is done, so a configuration change cuts no request in flight.
 */
function retire(agent: http.Agent): void {
  agent.maxFreeSockets = 0;
  for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
}

/**
 * A keep-alive pool whose connections are tunnels through the Arc gateway, one pool key per
 * destination (http.Agent keys by host:port): a request reuses an idle tunnel to its destination.
 */
class GatewayAgent extends http.Agent {
  constructor(
    private readonly gateway: Gateway,
    private readonly via: UpstreamProxy | undefined,
    private readonly dialOptions: DialOptions,
    options: http.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): undefined {
    const target = { host: String(options.host), port: Number(options.port) };
    openGatewayTunnel(this.gateway, target, gatewayTunnelOptions(this.via, this.dialOptions)).then(
      ({ socket, head }) => {
        if (head.length) socket.unshift(head);
        socket.resume();
        callback?.(null, socket);
      },
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

/** Keep-alive pools: one for direct destinations (through the resolve map), one per enterprise proxy and gateway. */
export function createForwardPools(opts: PoolOptions): ForwardPools {
  // As many idle connections kept as may be open: fewer would close and reopen them under load.
  const poolOptions = {
    keepAlive: true,
    timeout: opts.idleMs,
    maxSockets: 256,
    maxFreeSockets: 256,
    scheduling: 'lifo' as const,
  };
  const direct = new http.Agent(poolOptions);
  const viaProxy = new Map<string, http.Agent>();
  const viaGateway = new Map<string, http.Agent>();
  const agentFor = (proxy: UpstreamProxy) => {
    let agent = viaProxy.get(proxy.url.href);
    if (!agent) {
      agent =
        proxy.url.protocol === 'https:'
          ? new (lazyHttps().Agent)({ ...poolOptions, ...(opts.upstreamCa ? { ca: opts.upstreamCa } : {}) })
          : new http.Agent(poolOptions);
      viaProxy.set(proxy.url.href, agent);
    }
    return agent;
  };
  const gatewayKey = (gateway: Gateway, via: UpstreamProxy | undefined) =>
    `${gatewayAuthority(gateway)} ${via?.url.href ?? ''}`;
  const gatewayAgentFor = (gateway: Gateway, via: UpstreamProxy | undefined) => {
    const key = gatewayKey(gateway, via);
    let agent = viaGateway.get(key);
    if (!agent) {
      agent = new GatewayAgent(gateway, via, opts.dialOptions, poolOptions);
      viaGateway.set(key, agent);
    }
    return agent;
  };
  return {
    request(target, path, absolute, method, headers, route) {
      if (route.kind === 'gateway') {
        // Through a tunnel to the destination itself: origin form, as to the destination directly.
        return http.request({
          host: target.host,
          port: target.port,
          method,
          path,
          headers,
          agent: gatewayAgentFor(route.gateway, route.via),
          setHost: false,
        });
      }
      if (route.kind === 'direct') {
        const where = resolveTarget(target, opts.resolve);
        return http.request({
          host: where.host,
          port: where.port,
          method,
          path,
          headers,
          agent: direct,
          setHost: false,
        });
      }
      const proxy = route.proxy;
      const secure = proxy.url.protocol === 'https:';
      const withAuth = proxy.authorization
        ? [...headers, 'proxy-authorization', proxy.authorization]
        : headers;
      return (secure ? lazyHttps() : http).request({
        host: proxy.url.hostname.replace(/^\[|\]$/g, ''),
        port: Number(proxy.url.port) || (secure ? 443 : 80),
        method,
        path: absolute,
        headers: withAuth,
        agent: agentFor(proxy),
        setHost: false,
      });
    },
    retain(policy) {
      for (const [href, agent] of viaProxy) {
        if (href !== policy.upstream?.url.href) {
          viaProxy.delete(href);
          retire(agent);
        }
      }
      const inUse = policy.gateway ? gatewayKey(policy.gateway.gateway, policy.upstream) : undefined;
      for (const [key, agent] of viaGateway) {
        if (key !== inUse) {
          viaGateway.delete(key);
          retire(agent);
        }
      }
    },
    close() {
      direct.destroy();
      for (const agent of [...viaProxy.values(), ...viaGateway.values()]) agent.destroy();
      viaProxy.clear();
      viaGateway.clear();
    },
  };
}
