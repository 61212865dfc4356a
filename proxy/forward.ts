// Absolute-form HTTP forwarding (RFC 9112 section 3.2.2): `GET http://host/path` from the client goes
// to the destination (or to the enterprise proxy, still in absolute form, or in origin form through a
// tunnel of the Arc gateway to the destination) over pooled keep-alive connections. Hop-by-hop
// headers are dropped both ways (RFC 9110 section 7.6.1), Via is added. node:http takes requests in;
// undici's pools take them on (createForwardPools), at half the cost per request of node:http's client.
import type { IncomingMessage, ServerResponse, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { Agent, Dispatcher } from 'undici';
import { AgentError, type Logger } from '../core/index.ts';
import {
  type Gateway,
  dialError,
  gatewayAuthority,
  openProxyConnection,
  upstreamProxyError,
} from '../gateway-client/index.ts';
import { clientIdOf } from './client-id.ts';
import { type DialOptions, dial } from './dial.ts';
import { type MeterRoute, publishRefusal, publishTraffic } from './meter.ts';
import { replyOnResponse } from './reply.ts';
import { type Route, type RoutePolicy, type UpstreamProxy, decideRoute } from './route.ts';
import { type Target, formatTarget, parseAuthority } from './target.ts';

export interface ForwardDeps {
  policy: () => RoutePolicy;
  pools: ForwardPools;
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
  // Not hop-by-hop, but answered here already: node:http sends `100 Continue` to the client itself.
  'expect',
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
  const method = req.method ?? 'GET';
  const request: UpstreamRequest = {
    target,
    path: `${url.pathname}${url.search}`,
    absolute: url.href,
    method,
    headers: requestHeaders(req, url.host),
    // Counted as it goes: a listener of our own beside undici's would lose chunks before it reads.
    body: hasBody
      ? Readable.from(
          counted(req, (n) => (sent += n)),
          { objectMode: false },
        )
      : null,
  };
  // A pooled connection the destination closed as we reused it fails before any answer: a request
  // that is safe to repeat (RFC 9110 section 9.2.2) and has no body is sent once more.
  let retries = hasBody || !IDEMPOTENT.has(method) ? 0 : 1;
  let controller: Dispatcher.DispatchController | undefined;
  let answered = false;
  const fail = (err: AgentError) => {
    controller?.abort(err);
    done(err);
    if (res.headersSent) res.destroy();
    else replyOnResponse(res, err);
  };
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(c) {
      controller = c;
      if (res.destroyed) c.abort(new Error('the client went away'));
    },
    onResponseStart(_c, status, headers, statusMessage) {
      if (finished || status < 200) return;
      if (status === 407 && proxy) {
        fail(
          new AgentError('ARCPROXY_UPSTREAM_PROXY_AUTH', `${proxy.display} answered 407 for ${destination}`),
        );
        return;
      }
      answered = true;
      res.writeHead(status, statusMessage, responseHeaders(headers));
    },
    onResponseData(c, chunk) {
      if (finished) return;
      received += chunk.length;
      if (!res.write(chunk)) c.pause();
    },
    onResponseEnd() {
      if (finished) return;
      res.end();
      done();
    },
    onResponseError(_c, err: NodeJS.ErrnoException) {
      if (finished) return;
      if (!answered && retries > 0 && (err.code === 'UND_ERR_SOCKET' || err.code === 'ECONNRESET')) {
        retries--;
        deps.pools.dispatch(decision, request, handler);
        return;
      }
      // Failures of the hops themselves (the gateway, an enterprise proxy) carry their code already.
      // Before the enterprise proxy answers, a failure is the enterprise proxy's (refused, TLS, ...).
      fail(
        err instanceof AgentError
          ? err
          : proxy && !answered
            ? upstreamProxyError(err, proxy)
            : dialError(err, destination),
      );
    },
  };
  res.on('drain', () => controller?.resume());
  res.once('close', () => {
    if (!res.writableFinished && !finished) {
      controller?.abort(new Error('the client went away'));
      done();
    }
  });
  deps.pools.dispatch(decision, request, handler);
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

async function* counted(body: IncomingMessage, add: (bytes: number) => void): AsyncGenerator<Buffer> {
  for await (const chunk of body as AsyncIterable<Buffer>) {
    add(chunk.length);
    yield chunk;
  }
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

/** A forwarded request as it goes to the next hop. */
export interface UpstreamRequest {
  target: Target;
  /** Origin form (`/path?query`), for the destination itself and for a tunnel through the gateway. */
  path: string;
  /** Absolute form, for an enterprise proxy. */
  absolute: string;
  method: string;
  /** Flat name, value list, hop-by-hop headers already dropped. */
  headers: string[];
  body: Readable | null;
}

export interface PoolOptions {
  /** How long a pooled connection may sit idle before it is closed (under the usual 5 s of origins). */
  idleMs: number;
  /** How long to wait for an answer, and then between two pieces of its body. */
  responseTimeoutMs: number;
  /** How connections to destinations and tunnels through the Arc gateway are opened (as for CONNECT). */
  dialOptions: DialOptions;
}

export interface ForwardPools {
  /** Sends the request on the route's keep-alive pool; the handler sees the answer or the failure. */
  dispatch(route: Route, request: UpstreamRequest, handler: Dispatcher.DispatchHandler): void;
  /** Retires pools for enterprise proxies and gateways that the policy no longer uses. */
  retain(policy: RoutePolicy): void;
  close(): void;
}

type AgentClass = typeof Agent;
/** How undici's pools open a connection (a function given as its `connect` option). */
type Connector = (
  o: { hostname: string; port: string },
  callback: (...result: [null, Socket] | [Error, null]) => void,
) => void;

/** undici's callback form of a function that opens the connection. */
const connector =
  (open: (o: { hostname: string; port: string }) => Promise<Socket>): Connector =>
  (o, callback) => {
    open(o).then(
      (socket) => callback(null, socket),
      (err: Error) => callback(err, null),
    );
  };

let agentClass: AgentClass | undefined;
let loadingAgentClass: Promise<AgentClass> | undefined;

/**
 * undici's connection pools, loaded on the first forwarded request: a proxy that only tunnels never
 * pays for them. Its Agent alone (lib/dispatcher/agent.js), not the package index, which loads
 * fetch, WebSocket and caches too (about 9 MiB more).
 */
function withAgentClass(use: (agent: AgentClass) => void, failed: (err: Error) => void): void {
  if (agentClass) {
    use(agentClass);
    return;
  }
  loadingAgentClass ??= import('undici/lib/dispatcher/agent.js').then((m) => (agentClass = m.default));
  loadingAgentClass.then(use, failed);
}

/**
 * Keep-alive pools (undici: its parser and pools cost half of what node:http's do per request): one
 * for destinations, through dial() as CONNECT tunnels are, one per enterprise proxy (absolute form),
 * one per Arc gateway whose connections are tunnels through it to the destination (origin form).
 */
export function createForwardPools(opts: PoolOptions): ForwardPools {
  const { dialOptions } = opts;
  // As many idle connections kept as may be open: fewer would close and reopen them under load.
  const poolOptions = {
    connections: 256,
    pipelining: 1,
    keepAliveTimeout: opts.idleMs,
    keepAliveMaxTimeout: opts.idleMs,
    headersTimeout: opts.responseTimeoutMs,
    bodyTimeout: opts.responseTimeoutMs,
  };
  // Connections opened by dial(), like CONNECT tunnels: resolve map, timeouts and error codes alike.
  const dialing = (route: Route) =>
    connector(async (o) => {
      const { socket, head } = await dial(
        route,
        { host: o.hostname, port: Number(o.port) || 80 },
        dialOptions,
      );
      if (head.length) socket.unshift(head);
      return socket;
    });
  let direct: Agent | undefined;
  const viaProxy = new Map<string, Agent>();
  const viaGateway = new Map<string, Agent>();
  const gatewayKey = (gateway: Gateway, via: UpstreamProxy | undefined) =>
    `${gatewayAuthority(gateway)} ${via?.url.href ?? ''}`;
  const agentFor = (Agent: AgentClass, route: Route): Agent => {
    if (route.kind === 'direct') return (direct ??= new Agent({ ...poolOptions, connect: dialing(route) }));
    if (route.kind === 'gateway') {
      const key = gatewayKey(route.gateway, route.via);
      let agent = viaGateway.get(key);
      if (!agent) viaGateway.set(key, (agent = new Agent({ ...poolOptions, connect: dialing(route) })));
      return agent;
    }
    const { proxy } = route;
    let agent = viaProxy.get(proxy.url.href);
    if (!agent) {
      const options = { timeoutMs: dialOptions.connectTimeoutMs, ca: dialOptions.upstreamCa };
      const connect = connector(() => openProxyConnection(proxy, options));
      viaProxy.set(proxy.url.href, (agent = new Agent({ ...poolOptions, connect })));
    }
    return agent;
  };
  const retire = (agent: Agent) => void agent.close().catch(() => {});
  return {
    dispatch(route, request, handler) {
      withAgentClass(
        (Agent) => {
          const agent = agentFor(Agent, route);
          const { method, headers, body } = request;
          if (route.kind !== 'upstream') {
            const origin = `http://${formatTarget(request.target)}`;
            agent.dispatch({ origin, path: request.path, method, headers, body }, handler);
            return;
          }
          const { proxy } = route;
          const withAuth = proxy.authorization
            ? [...headers, 'proxy-authorization', proxy.authorization]
            : headers;
          // servername: undici would take it from the Host header and reconnect for each new one;
          // the connection is to the proxy, whose name openProxyConnection() uses.
          const options = { origin: proxy.url.origin, servername: proxy.url.hostname };
          agent.dispatch({ ...options, path: request.absolute, method, headers: withAuth, body }, handler);
        },
        // Only if the bundle lacks undici: the request fails like any other, with no controller yet.
        (err) => handler.onResponseError?.(undefined as unknown as Dispatcher.DispatchController, err),
      );
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
      for (const agent of [direct, ...viaProxy.values(), ...viaGateway.values()]) void agent?.destroy();
      direct = undefined;
      viaProxy.clear();
      viaGateway.clear();
    },
  };
}
