// Absolute-form HTTP forwarding (RFC 9112 section 3.2.2): `GET http://host/path` from the client goes
// to the destination (or to the enterprise proxy, still in absolute form, or in origin form through a
// tunnel of the Arc gateway to the destination) over pooled keep-alive connections. Hop-by-hop
// headers are dropped both ways (RFC 9110 section 7.6.1), Via is added. Heads are read by http1.ts;
// bodies pass through as they are framed (a length, or chunked: the framing is kept, and only
// followed to find the end and count the payload), so a request costs two reads and two writes.
//
//   client --GET http://d/p--> Arc Proxy --GET /p------------------> destination
//                                        --GET http://d/p---------> enterprise proxy
//                                        ==gateway tunnel== GET /p --> destination
import type { Socket } from 'node:net';
import { AgentError, type Logger } from '../core/index.ts';
import {
  dialError,
  gatewayAuthority,
  openProxyConnection,
  upstreamProxyError,
} from '../gateway-client/index.ts';
import type { BodySink, ClientRequest } from './client-connection.ts';
import { clientIdOf } from './client-id.ts';
import type { Deadlines, Timed } from './deadlines.ts';
import { type DialOptions, dial } from './dial.ts';
import {
  ChunkedBody,
  ChunkedError,
  type Framing,
  HeadGatherer,
  headerValues,
  parseResponseHead,
  responseFraming,
} from './http1.ts';
import { type MeterRoute, publishRefusal, publishTraffic } from './meter.ts';
import { type Decision, type Route, type UpstreamProxy, type RoutePolicy, decideRoute } from './route.ts';
import { type Target, formatTarget, parseAuthority } from './target.ts';
import type { Exchange as PooledExchange, Upstream, UpstreamPool } from './upstream-pool.ts';

export interface ForwardDeps {
  policy: () => RoutePolicy;
  pool: UpstreamPool;
  dialOptions: DialOptions;
  deadlines: Deadlines;
  /** How long to wait for an answer, and then between two pieces of its body. */
  responseTimeoutMs: number;
  /** The largest answer head taken from a destination. */
  maxHeaderBytes: number;
  log: Logger;
}

const REQUEST_HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
  'host',
  // Not hop-by-hop, but answered here already: the client got `100 Continue` from us.
  'expect',
]);
const RESPONSE_HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
]);
/** Never dropped for being named in Connection: the body is framed by them. */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding']);
const VIA = '1.1 arcproxy';
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const ABSOLUTE_URL = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^#]*)/;

export function forward(req: ClientRequest, deps: ForwardDeps): void {
  const { head } = req;
  const request = requestHeaders(head.headers);
  const client = clientIdOf(request.proxyAuthorization);
  const url = parseAbsoluteUrl(head.target);
  if (typeof url === 'string') {
    refuse(req, deps.log, new AgentError('ARCPROXY_BAD_REQUEST', url), client, '-', 'none', false);
    return;
  }
  const destination = formatTarget(url.target);
  if (request.looped) {
    const err = new AgentError(
      'ARCPROXY_BAD_REQUEST',
      `${destination}: the request came through an Arc Proxy already (Via: ${VIA}); it would go round in a loop`,
    );
    refuse(req, deps.log, err, client, destination, 'none', false);
    return;
  }
  const decision = decideRoute(url.target, client, deps.policy());
  if (decision.kind === 'deny') {
    const err = new AgentError('ARCPROXY_DENIED', decision.reason, { action: decision.allowCommand });
    refuse(req, deps.log, err, client, destination, 'deny', false);
    return;
  }
  if (decision.wouldDeny) {
    deps.log.warn(
      { client, destination, mode: 'audit' },
      'would deny: destination is not in the endpoint allow-list',
    );
  }
  const proxy = decision.kind === 'upstream' ? decision.proxy : undefined;
  const requestTarget = proxy ? `http://${url.host}${url.path}` : url.path;
  const auth = proxy?.authorization ? `proxy-authorization: ${proxy.authorization}\r\n` : '';
  const text = `${head.method} ${requestTarget} HTTP/1.1\r\n${request.lines}host: ${url.host}\r\n${auth}\r\n`;
  new ForwardExchange(req, deps, decision, client, destination, url.target, text).start();
}

/** An absolute-form URL as the target, its Host header and its origin-form path; or why it is refused. */
function parseAbsoluteUrl(text: string): { target: Target; host: string; path: string } | string {
  const m = ABSOLUTE_URL.exec(text);
  if (!m) return 'not an absolute-form URL';
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'http') return `only http:// is forwarded; use CONNECT for ${scheme}:// destinations`;
  const target = m[2]!.includes('@') ? undefined : parseAuthority(m[2]!, 80);
  if (!target) return 'not an absolute-form URL';
  const name = target.host.includes(':') ? `[${target.host}]` : target.host;
  const path = m[3] || '/';
  return {
    target,
    host: target.port === 80 ? name : `${name}:${target.port}`,
    path: path.startsWith('/') ? path : `/${path}`,
  };
}

/** Request header lines for the next hop, and Proxy-Authorization (ours: not passed on). */
function requestHeaders(headers: string[]): {
  lines: string;
  proxyAuthorization: string | undefined;
  /** Whether the request passed through an Arc Proxy already: sent to one's own port, it would go round. */
  looped: boolean;
} {
  const hop = nextHopHeaders(headers, REQUEST_HOP_BY_HOP);
  return {
    lines: hop.lines,
    proxyAuthorization: headerValues(headers, 'proxy-authorization')[0],
    looped: hop.via?.includes(VIA) ?? false,
  };
}

/**
 * Header lines for the next hop: raw order and case kept, `hopByHop` ones, those named in Connection
 * (never the framing ones) and those `drop` names left out, Via added. Also the Connection tokens,
 * and the Via the message came with.
 */
function nextHopHeaders(
  headers: string[],
  hopByHop: Set<string>,
  drop?: (lowerName: string) => boolean,
): { lines: string; named: Set<string> | undefined; via: string | undefined } {
  const lower: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase();
    lower.push(name);
    if (name === 'connection') connection = connection ? `${connection},${headers[i + 1]!}` : headers[i + 1]!;
  }
  const named = connection === undefined ? undefined : connectionTokens(connection);
  let lines = '';
  let via: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = lower[i >> 1]!;
    if (hopByHop.has(name) || (named?.has(name) && !FRAMING_HEADERS.has(name)) || drop?.(name)) continue;
    if (name === 'via') {
      via = via ? `${via}, ${headers[i + 1]!}` : headers[i + 1]!;
      continue;
    }
    lines += `${headers[i]!}: ${headers[i + 1]!}\r\n`;
  }
  return { lines: `${lines}via: ${via ? `${via}, ${VIA}` : VIA}\r\n`, named, via };
}

function connectionTokens(value: string): Set<string> {
  return new Set(
    value
      .toLowerCase()
      .split(',')
      .map((t) => t.trim()),
  );
}

function refuse(
  req: ClientRequest,
  log: Logger,
  err: AgentError,
  client: string,
  destination: string,
  route: MeterRoute,
  wouldDeny: boolean,
): void {
  log.warn({ client, destination, route, code: err.code }, err.message);
  publishRefusal(err.code, { client, destination, route, wouldDeny });
  req.abort(err);
}

/** One request and its answer, on one pooled connection (or two: a stale one is retried once). */
class ForwardExchange implements PooledExchange, Timed, BodySink {
  deadline = 0;
  slot = -1;
  private upstream: Upstream | undefined;
  /** The answer head as it comes. */
  private readonly answerHead = new HeadGatherer();
  private framing: Framing | undefined;
  private bodyLeft = 0;
  private chunked: ChunkedBody | undefined;
  /** Whether the client gets the answer's payload without its chunk framing (an HTTP/1.0 client). */
  private dechunk = false;
  private answered = false;
  private keepClient = false;
  private keepUpstream = true;
  private requestDone: boolean;
  private finished = false;
  private retries: number;
  private sent = 0;
  private received = 0;
  private readonly route: MeterRoute;
  private readonly proxy: UpstreamProxy | undefined;
  private readonly key: string;

  constructor(
    private readonly req: ClientRequest,
    private readonly deps: ForwardDeps,
    private readonly decision: Decision & Route,
    private readonly client: string,
    private readonly destination: string,
    private readonly target: Target,
    private readonly text: string,
  ) {
    this.route = decision.kind;
    this.proxy = decision.kind === 'upstream' ? decision.proxy : undefined;
    this.key = poolKey(decision, destination);
    this.requestDone = req.framing.kind === 'none';
    // A pooled connection the destination closed as we reused it fails before any answer: a request
    // that is safe to repeat (RFC 9110 section 9.2.2) and has no body is sent once more.
    this.retries = this.requestDone && IDEMPOTENT.has(req.head.method) ? 1 : 0;
  }

  start(): void {
    this.req.onGone = () => this.clientGone();
    this.acquire(false);
  }

  private acquire(fresh: boolean): void {
    this.deps.pool.acquire(
      this.key,
      () => this.open(),
      fresh,
      (err, upstream) => {
        if (this.finished) {
          if (upstream) this.deps.pool.release(upstream);
          return;
        }
        if (err) this.fail(this.asAgentError(err));
        else this.send(upstream!);
      },
    );
  }

  /** A new connection for the route: as CONNECT tunnels open theirs, or to the enterprise proxy. */
  private async open(): Promise<Socket> {
    const { dialOptions } = this.deps;
    if (this.proxy) {
      return openProxyConnection(this.proxy, {
        timeoutMs: dialOptions.connectTimeoutMs,
        ca: dialOptions.upstreamCa,
      });
    }
    const { socket, head } = await dial(this.decision, this.target, dialOptions);
    socket.setNoDelay(true);
    if (head.length) socket.unshift(head);
    return socket;
  }

  private send(upstream: Upstream): void {
    this.upstream = upstream;
    upstream.exchange = this;
    this.deadline = Date.now() + this.deps.responseTimeoutMs;
    this.deps.deadlines.add(this);
    upstream.socket.write(this.text, 'latin1');
    if (!this.requestDone) this.req.readBody(this);
  }

  // The request body, from the client connection.
  data(chunk: Buffer, payload: number): boolean {
    if (this.finished) return true;
    this.sent += payload;
    const socket = this.upstream!.socket;
    if (socket.write(chunk)) return true;
    socket.once('drain', () => this.req.resumeBody());
    return false;
  }

  end(): void {
    this.requestDone = true;
  }

  // The answer, from the pooled connection.
  onData(chunk: Buffer): void {
    if (this.finished) return;
    this.deadline = Date.now() + this.deps.responseTimeoutMs;
    if (this.framing) this.body(chunk);
    else this.readAnswerHead(chunk);
  }

  private readAnswerHead(chunk: Buffer): void {
    this.answerHead.append(chunk);
    if (this.answerHead.look(this.deps.maxHeaderBytes) === 'more') return;
    const parsed = parseResponseHead(this.answerHead.bytes!, this.deps.maxHeaderBytes);
    if (parsed.kind === 'incomplete') return; // never after look() said 'end' or 'bare'
    const buf = this.answerHead.take();
    if (parsed.kind !== 'head') {
      const why = parsed.kind === 'too-large' ? 'an answer head over the size limit' : parsed.reason;
      this.fail(new AgentError('ARCPROXY_UPSTREAM_RESET', `${this.destination} sent ${why}`));
      return;
    }
    const { head } = parsed;
    const rest = buf.subarray(parsed.end);
    if (head.status < 200) {
      // Interim answers (100 Continue, 103 Early Hints) are not passed on; 101 is never asked for.
      if (head.status === 101) {
        this.fail(new AgentError('ARCPROXY_UPSTREAM_RESET', `${this.destination} switched protocols`));
      } else if (rest.length > 0) {
        this.readAnswerHead(rest);
      }
      return;
    }
    if (head.status === 407 && this.proxy) {
      this.fail(
        new AgentError(
          'ARCPROXY_UPSTREAM_PROXY_AUTH',
          `${this.proxy.display} answered 407 for ${this.destination}`,
        ),
      );
      return;
    }
    const framing = responseFraming(this.req.head.method, head.status, head.headers);
    if (framing.kind === 'invalid') {
      this.fail(new AgentError('ARCPROXY_UPSTREAM_RESET', `${this.destination} sent ${framing.reason}`));
      return;
    }
    const client = this.req;
    // An answer delimited by the close of the connection ends the client's connection too; an
    // HTTP/1.0 client gets a chunked answer as plain payload, and then the close.
    this.dechunk = framing.kind === 'chunked' && client.head.minor === 0;
    this.keepClient = client.keepAlive && framing.kind !== 'close' && !this.dechunk;
    const answer = answerHeaders(head.headers, framing.kind === 'chunked', this.dechunk);
    this.keepUpstream = framing.kind !== 'close' && answer.keepAlive && head.minor === 1;
    const connection = this.keepClient
      ? client.head.minor === 0
        ? 'connection: keep-alive\r\n'
        : ''
      : 'connection: close\r\n';
    const text = `HTTP/1.1 ${head.status} ${head.reason}\r\n${answer.lines}${connection}\r\n`;
    this.answered = true;
    this.framing = framing;
    if (framing.kind === 'length') this.bodyLeft = framing.length;
    else if (framing.kind === 'chunked') this.chunked = new ChunkedBody();
    const socket = client.socket;
    if (rest.length === 0 || framing.kind === 'none') {
      socket.write(text, 'latin1');
      if (framing.kind === 'none') {
        if (rest.length > 0) this.keepUpstream = false;
        this.complete();
      }
      return;
    }
    socket.cork();
    socket.write(text, 'latin1');
    this.body(rest);
    socket.uncork();
  }

  private body(chunk: Buffer): void {
    const framing = this.framing!;
    if (framing.kind === 'length') {
      if (chunk.length < this.bodyLeft) {
        this.bodyLeft -= chunk.length;
        this.received += chunk.length;
        this.write(chunk);
        return;
      }
      if (chunk.length > this.bodyLeft) this.keepUpstream = false; // more than it announced
      this.received += this.bodyLeft;
      this.write(chunk.length > this.bodyLeft ? chunk.subarray(0, this.bodyLeft) : chunk);
      this.bodyLeft = 0;
      this.complete();
      return;
    }
    if (framing.kind === 'close') {
      this.received += chunk.length;
      this.write(chunk);
      return;
    }
    const chunked = this.chunked!;
    let end: number;
    try {
      end = chunked.push(chunk, 0, this.dechunk ? (data) => this.write(data) : undefined);
    } catch (err) {
      if (!(err instanceof ChunkedError)) throw err;
      this.fail(new AgentError('ARCPROXY_UPSTREAM_RESET', `${this.destination} sent ${err.message}`));
      return;
    }
    this.received = chunked.payload;
    if (!this.dechunk) this.write(end < 0 ? chunk : chunk.subarray(0, end));
    if (end < 0) return;
    if (end < chunk.length) this.keepUpstream = false;
    this.complete();
  }

  private write(chunk: Buffer): void {
    const client = this.req.socket;
    if (client.write(chunk) || !this.upstream) return;
    const upstream = this.upstream.socket;
    if (upstream.isPaused()) return;
    upstream.pause();
    client.once('drain', () => upstream.resume());
  }

  onClose(err: Error | undefined): void {
    if (this.finished) return;
    const upstream = this.upstream!;
    this.upstream = undefined;
    if (!this.answered && this.answerHead.bytes === undefined && upstream.reused && this.retries > 0) {
      this.retries--;
      this.deps.deadlines.delete(this);
      this.acquire(true);
      return;
    }
    if (this.framing?.kind === 'close' && !err) {
      this.complete();
      return;
    }
    const why = this.answered
      ? 'closed the connection in the middle of the answer'
      : 'closed the connection before answering';
    this.fail(
      err ? this.asAgentError(err) : new AgentError('ARCPROXY_UPSTREAM_RESET', `${this.destination} ${why}`),
    );
  }

  expire(): void {
    if (this.finished) return;
    const what = this.answered ? 'the rest of the answer' : 'an answer';
    this.fail(
      new AgentError(
        'ARCPROXY_UPSTREAM_TIMEOUT',
        `${this.proxy ? `enterprise proxy ${this.proxy.display}` : this.destination}: no ${what} within ${this.deps.responseTimeoutMs} ms`,
      ),
    );
  }

  /** A socket error as its code: before an answer, through an enterprise proxy, it is the proxy's. */
  private asAgentError(err: Error): AgentError {
    if (err instanceof AgentError) return err;
    return this.proxy && !this.answered
      ? upstreamProxyError(err, this.proxy)
      : dialError(err, this.destination);
  }

  private complete(): void {
    if (!this.requestDone) {
      // Answered before the client sent all of its body: that connection cannot be reused.
      this.keepUpstream = false;
    }
    this.finished = true;
    this.deps.deadlines.delete(this);
    const upstream = this.upstream;
    this.upstream = undefined;
    if (upstream) {
      if (this.keepUpstream) this.deps.pool.release(upstream);
      else {
        upstream.exchange = undefined;
        upstream.socket.destroy();
      }
    }
    this.publish(undefined);
    this.req.finish(this.keepClient && this.requestDone);
  }

  fail(err: AgentError): void {
    if (this.finished) return;
    this.finished = true;
    this.deps.deadlines.delete(this);
    this.dropUpstream();
    this.deps.log.warn(
      { client: this.client, destination: this.destination, route: this.route, code: err.code },
      err.message,
    );
    this.publish(err);
    this.req.abort(this.answered ? undefined : err);
  }

  /** The client closed its connection before the answer was complete. */
  private clientGone(): void {
    if (this.finished) return;
    this.finished = true;
    this.deps.deadlines.delete(this);
    this.dropUpstream();
    this.publish(undefined);
  }

  private dropUpstream(): void {
    const upstream = this.upstream;
    this.upstream = undefined;
    if (!upstream) return;
    upstream.exchange = undefined;
    upstream.socket.destroy();
  }

  private publish(err: AgentError | undefined): void {
    publishTraffic({
      client: this.client,
      destination: this.destination,
      route: this.route,
      kind: 'request',
      sent: this.sent,
      received: this.received,
      denied: false,
      wouldDeny: this.decision.wouldDeny,
      code: err?.code,
    });
  }
}

/** Answer header lines for the client, and whether the destination keeps its connection open. */
function answerHeaders(
  headers: string[],
  chunked: boolean,
  dechunk: boolean,
): { lines: string; keepAlive: boolean } {
  // A chunked answer's Content-Length is wrong by definition (RFC 9112 section 6.3, item 3); an
  // HTTP/1.0 client gets neither, and the close ends the answer.
  const drop = chunked
    ? (name: string) => name === 'content-length' || (dechunk && name === 'transfer-encoding')
    : undefined;
  const hop = nextHopHeaders(headers, RESPONSE_HOP_BY_HOP, drop);
  return { lines: hop.lines, keepAlive: !hop.named?.has('close') };
}

/** Which pooled connections can carry a request on this route. */
function poolKey(route: Route, destination: string): string {
  if (route.kind === 'upstream') return `proxy ${route.proxy.url.href}`;
  if (route.kind === 'gateway') {
    return `gateway ${gatewayAuthority(route.gateway)} ${route.via?.url.href ?? ''} ${destination}`;
  }
  return `direct ${destination}`;
}
