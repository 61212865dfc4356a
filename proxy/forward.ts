// Absolute-form HTTP forwarding (RFC 9112 section 3.2.2): `GET http://host/path` from the client goes
// to the destination (or to the enterprise proxy, still in absolute form) over pooled keep-alive
// connections (undici). Hop-by-hop headers are dropped both ways (RFC 9110 section 7.6.1), Via added.
import type { IncomingMessage, ServerResponse, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { Agent, ProxyAgent, buildConnector, type Dispatcher } from 'undici';
import { AgentError, type Logger } from '../core/index.ts';
import { clientIdOf } from './client-id.ts';
import { dialError } from './dial-error.ts';
import { resolveTarget } from './dial.ts';
import { type MeterRoute, publishTraffic } from './meter.ts';
import { replyOnResponse } from './reply.ts';
import { type RoutePolicy, type UpstreamProxy, decideRoute } from './route.ts';
import { formatTarget, parseAuthority } from './target.ts';

export interface ForwardDeps {
  policy: () => RoutePolicy;
  dispatcherFor: (proxy: UpstreamProxy | undefined) => Dispatcher;
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
  if (decision.wouldDeny)
    deps.log.warn(
      { client, destination, mode: 'audit' },
      'would deny: destination is not in the endpoint allow-list',
    );
  const route: MeterRoute = decision.kind;
  const dispatcher = deps.dispatcherFor(decision.kind === 'upstream' ? decision.proxy : undefined);
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
  async function* countedBody() {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      sent += chunk.length;
      yield chunk;
    }
  }
  let abort: ((reason: Error) => void) | undefined;
  res.once('close', () => {
    if (!res.writableFinished) abort?.(new Error('client went away'));
  });
  dispatcher.dispatch(
    {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: req.method ?? 'GET',
      headers: requestHeaders(req, url.host),
      body: hasBody ? Readable.from(countedBody(), { objectMode: false }) : null,
    },
    {
      onRequestStart(controller) {
        abort = (reason) => controller.abort(reason);
      },
      onResponseStart(controller, statusCode, headers, statusMessage) {
        if (statusCode === 407 && decision.kind === 'upstream') {
          controller.abort(
            new AgentError(
              'ARCPROXY_UPSTREAM_PROXY_AUTH',
              `${decision.proxy.display} answered 407 for ${destination}`,
            ),
          );
          return;
        }
        res.writeHead(statusCode, statusMessage || undefined, responseHeaders(headers));
      },
      onResponseData(controller, chunk) {
        received += chunk.length;
        if (!res.write(chunk)) {
          controller.pause();
          res.once('drain', () => controller.resume());
        }
      },
      onResponseEnd() {
        res.end();
        done();
      },
      onResponseError(_controller, error) {
        const err = error instanceof AgentError ? error : dialError(error, destination);
        if (res.destroyed) {
          done();
          return;
        }
        done(err);
        replyOnResponse(res, err);
      },
    },
  );
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
  publishTraffic({
    client,
    destination,
    route,
    kind: 'refusal',
    sent: 0,
    received: 0,
    denied: err.code === 'ARCPROXY_DENIED',
    wouldDeny,
    code: err.code,
  });
  req.resume();
  replyOnResponse(res, err);
}

export interface DispatcherOptions {
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  resolve: () => Record<string, string> | undefined;
  upstreamCa: string | Buffer | undefined;
}

/** Pools: one undici Agent for direct destinations (through the resolve map), one ProxyAgent per enterprise proxy. */
export function createDispatchers(opts: DispatcherOptions) {
  const connect = buildConnector({ timeout: opts.connectTimeoutMs });
  const timeouts = { headersTimeout: opts.responseTimeoutMs, bodyTimeout: opts.responseTimeoutMs };
  const direct = new Agent({
    ...timeouts,
    keepAliveTimeout: 4_000,
    connections: 256,
    connect: (options, callback) => {
      const where = resolveTarget(
        { host: options.hostname, port: Number(options.port) || 80 },
        opts.resolve(),
      );
      connect({ ...options, hostname: where.host, port: String(where.port) }, callback);
    },
  });
  const viaProxy = new Map<string, ProxyAgent>();
  return {
    dispatcherFor: (proxy: UpstreamProxy | undefined): Dispatcher => {
      if (!proxy) return direct;
      let agent = viaProxy.get(proxy.url.href);
      if (!agent) {
        const uri = new URL(proxy.url.href);
        uri.username = '';
        uri.password = '';
        agent = new ProxyAgent({
          uri: uri.href,
          ...(proxy.authorization ? { token: proxy.authorization } : {}),
          proxyTunnel: false,
          ...(opts.upstreamCa ? { proxyTls: { ca: opts.upstreamCa } } : {}),
          ...timeouts,
        });
        viaProxy.set(proxy.url.href, agent);
      }
      return agent;
    },
    /** Closes pools for enterprise proxies that are no longer configured. */
    retain: (proxy: UpstreamProxy | undefined): void => {
      for (const [href, agent] of viaProxy) {
        if (href !== proxy?.url.href) {
          viaProxy.delete(href);
          void agent.close();
        }
      }
    },
    close: async (): Promise<void> => {
      await Promise.all([direct.close(), ...[...viaProxy.values()].map((a) => a.close())]);
    },
  };
}
