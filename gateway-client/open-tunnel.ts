// A tunnel through the Arc gateway: TCP to the gateway (or a CONNECT through the enterprise proxy),
// TLS with the gateway's host as SNI, the cloud's CA and the machine certificate, then a nested
// CONNECT naming the real target inside that TLS session (reference section 6.2). The TLS socket is
// the tunnel: after the gateway's 200, its payload is the target's bytes, usually an inner TLS
// session end to end, which nothing on the way can read.
//
//   Arc Proxy --TCP--------------------------------> gateway ==TLS== CONNECT target --> target
//   Arc Proxy --TCP--> enterprise proxy --CONNECT--> gateway ==TLS== CONNECT target --> target
import type tls from 'node:tls';
import { AgentError } from '../core/index.ts';
import { type AnswerHeadError, readAnswerHead, readShortBody } from './answer-head.ts';
import { type UpstreamProxy, openUpstreamTunnel } from './enterprise-proxy.ts';
import { type Gateway, gatewayAuthority, gatewayDomainPattern, gatewayTarget } from './gateway.ts';
import { type Target, type Tunnel, connectTcp, formatTarget } from './hop.ts';
import { gatewayRefusal, readGatewayAnswer } from './refusal.ts';
import { type ClientIdentity, type GatewayTlsCache, createGatewayTlsCache, lazyTls } from './tls-cache.ts';

export interface GatewayTunnelOptions {
  /** The enterprise proxy the TLS session to the gateway runs through, if any. */
  via?: UpstreamProxy | undefined;
  /** host -> `addr:port` from the cloud profile (the local cloud names its gateway there). */
  resolve?: Record<string, string> | undefined;
  /** The cloud's CA (PEM) the gateway's certificate must chain to; the system's roots when absent. */
  ca?: string | Buffer | undefined;
  /** The machine certificate and key; none before connect, and then only onboarding endpoints pass. */
  identity?: ClientIdentity | undefined;
  /** For the whole set-up: TCP, the enterprise proxy's answer, TLS and the gateway's answer. */
  connectTimeoutMs: number;
  /** Secure contexts and session tickets kept between tunnels; a fresh one (no reuse) when absent. */
  tls?: GatewayTlsCache | undefined;
  /** Extra CAs for TLS to an https:// enterprise proxy. */
  upstreamCa?: string | Buffer | undefined;
}

export async function openGatewayTunnel(
  gateway: Gateway,
  target: Target,
  opts: GatewayTunnelOptions,
): Promise<Tunnel> {
  const started = Date.now();
  const outer = await openOuter(gateway, opts);
  const left = Math.max(1, opts.connectTimeoutMs - (Date.now() - started));
  return inside(gateway, target, outer, { ...opts, connectTimeoutMs: left });
}

/** The TCP connection the TLS session runs on: straight (through the resolve map) or through the enterprise proxy. */
function openOuter(gateway: Gateway, opts: GatewayTunnelOptions): Promise<Tunnel> {
  const authority = gatewayAuthority(gateway);
  if (opts.via) {
    const via = opts.via;
    return openUpstreamTunnel(via, gatewayTarget(gateway), {
      timeoutMs: opts.connectTimeoutMs,
      ca: opts.upstreamCa,
      // 502, 503, 504 from the enterprise proxy: it could not reach the gateway (a 403 stays its refusal).
      refusal: (status) =>
        status !== undefined && status >= 502 && status <= 504
          ? new AgentError(
              'GATEWAY_UNREACHABLE',
              `enterprise proxy ${via.display} answered ${status} to CONNECT ${authority}`,
            )
          : undefined,
    });
  }
  return connectTcp(gatewayTarget(gateway), {
    resolve: opts.resolve,
    timeoutMs: opts.connectTimeoutMs,
    failed: (err) =>
      new AgentError('GATEWAY_UNREACHABLE', `${authority} (${err.code ?? err.message})`, { cause: err }),
  });
}

/** TLS to the gateway on `outer`, then the nested CONNECT, then the gateway's answer. */
function inside(
  gateway: Gateway,
  target: Target,
  outer: Tunnel,
  opts: GatewayTunnelOptions,
): Promise<Tunnel> {
  const cache = opts.tls ?? createGatewayTlsCache();
  const authority = gatewayAuthority(gateway);
  const sessionKey = cache.sessionKey(authority, opts.identity);
  // Bytes the enterprise proxy passed on with its 200 are the gateway's first TLS bytes.
  if (outer.head.length) outer.socket.unshift(outer.head);
  // Verification is ours, right after the handshake and before a byte of ours is sent: Node would
  // destroy the socket on a bad chain before we could read who issued the certificate we were shown,
  // and naming that issuer is what tells the user which box inspects TLS.
  const socket = lazyTls().connect({
    socket: outer.socket,
    servername: gateway.host,
    secureContext: cache.context(opts.ca, opts.identity),
    session: cache.session(sessionKey),
    rejectUnauthorized: false,
  });
  socket.on('session', (session: Buffer) => cache.saveSession(sessionKey, session));
  socket.once('close', () => outer.socket.destroy());
  const dest = formatTarget(target);
  const request = `CONNECT ${dest} HTTP/1.1\r\nHost: ${dest}\r\n\r\n`;
  let phase: 'tls' | 'answer' = 'tls';
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: AgentError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      outer.socket.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () =>
        fail(
          phase === 'tls'
            ? new AgentError('GATEWAY_UNREACHABLE', `${authority}: no TLS session within the connect timeout`)
            : new AgentError(
                'ARCPROXY_UPSTREAM_TIMEOUT',
                `gateway ${authority} did not answer CONNECT ${dest}`,
              ),
        ),
      opts.connectTimeoutMs,
    );
    socket.once('secureConnect', () => {
      if (!socket.authorized) {
        cache.forgetSession(sessionKey);
        fail(inspectionError(gateway, socket));
        return;
      }
      phase = 'answer';
      socket.write(request);
    });
    readAnswerHead(socket).then(
      async (answer) => {
        if (answer.status === 200) {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({
            socket,
            overheadWritten: outer.overheadWritten + Buffer.byteLength(request),
            overheadRead: outer.overheadRead + answer.size,
            head: answer.rest,
          });
          return;
        }
        const body = await readShortBody(socket, answer);
        fail(
          gatewayRefusal(
            gateway,
            target,
            readGatewayAnswer(answer.status, answer.headers, body),
            opts.identity !== undefined,
          ),
        );
      },
      (err: AnswerHeadError) => fail(noAnswerError(err, phase, authority, dest)),
    );
  });
}

/** No answer head from the gateway: the handshake failed, or it closed or babbled after our CONNECT. */
function noAnswerError(
  err: AnswerHeadError,
  phase: 'tls' | 'answer',
  authority: string,
  dest: string,
): AgentError {
  const code = err.socketError?.code ?? err.socketError?.message;
  if (err.reason === 'too-large')
    return new AgentError('GATEWAY_UNEXPECTED_ANSWER', `gateway ${authority}: answer head too large`);
  if (phase === 'tls')
    return new AgentError(
      'GATEWAY_UNREACHABLE',
      `${authority}: the TLS handshake failed (${code ?? 'connection closed'})`,
      { cause: err.socketError },
    );
  return new AgentError(
    'GATEWAY_UNREACHABLE',
    `gateway ${authority} closed the connection before answering CONNECT ${dest}${code ? ` (${code})` : ''}`,
    { cause: err.socketError },
  );
}

/** The gateway's certificate did not verify against the cloud's CA: name the issuer we were shown. */
function inspectionError(gateway: Gateway, socket: tls.TLSSocket): AgentError {
  const cert = socket.getPeerCertificate();
  const issuer = cert.issuer
    ? Object.entries(cert.issuer)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ')
    : 'unknown';
  const why = String(socket.authorizationError ?? 'not trusted');
  const detail =
    why === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? `the certificate shown for ${gateway.host} does not name it (issued by "${issuer}")`
      : `the certificate shown for ${gateway.host} was issued by "${issuer}" (${why}), not by the cloud's CA`;
  return new AgentError('GATEWAY_TLS_INSPECTION', detail, {
    action: `exempt ${gatewayDomainPattern(gateway)} from TLS inspection on the enterprise proxy or firewall; the agent's traffic inside is end-to-end TLS already`,
  });
}
