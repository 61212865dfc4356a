// The hop through the enterprise proxy: TCP (http://) or TLS (https://) to the proxy, then
// `CONNECT host:port` with our Proxy-Authorization, then the raw tunnel (RFC 9110 section 9.3.6).
// The Arc Proxy uses it for the upstream route, and the gateway client to reach the gateway.
//
//   Arc Proxy --[TLS]--> enterprise proxy --CONNECT--> destination (or Arc gateway)
import net from 'node:net';
import { AgentError, redactUrl } from '../core/index.ts';
import { type AnswerHeadError, readAnswerHead } from './answer-head.ts';
import { type Target, type Tunnel, TLS_FAILURE, dialError, formatTarget, whenConnected } from './hop.ts';

export interface UpstreamProxy {
  url: URL;
  /** `Basic ...` from the credentials in the URL; never logged. */
  authorization: string | undefined;
  /** The URL with credentials removed, for logs and output. */
  display: string;
}

export function parseUpstreamProxy(text: string): UpstreamProxy | undefined {
  let url: URL;
  try {
    url = new URL(text.includes('://') ? text : `http://${text}`);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) return undefined;
  const authorization =
    url.username || url.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
      : undefined;
  return { url, authorization, display: redactUrl(url) };
}

export interface UpstreamTunnelOptions {
  timeoutMs: number;
  /** Extra CAs for TLS to an https:// proxy. */
  ca?: string | Buffer | undefined;
  /**
   * The error for a refusal (an answer other than 200 and 407), when the caller knows better than
   * ARCPROXY_UPSTREAM_PROXY_REFUSED what it means: the gateway client says "gateway unreachable" for 502.
   */
  refusal?: ((status: number | undefined) => AgentError | undefined) | undefined;
}

/** TCP (http://) or TLS (https://: SNI the proxy's name, its certificate checked against `ca` too) to the enterprise proxy. */
function connectToProxy(
  proxy: UpstreamProxy,
  ca: string | Buffer | undefined,
): { socket: net.Socket; secure: boolean } {
  const { url } = proxy;
  const secure = url.protocol === 'https:';
  const port = Number(url.port) || (secure ? 443 : 80);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const socket = secure
    ? process
        .getBuiltinModule('node:tls')
        .connect({ host, port, servername: net.isIP(host) ? undefined : host, ca })
    : net.connect({ host, port, allowHalfOpen: true });
  socket.setNoDelay(true);
  return { socket, secure };
}

/**
 * A connection to the enterprise proxy itself, for requests in absolute form. Failures name the
 * proxy: ARCPROXY_UPSTREAM_PROXY_UNREACHABLE, ARCPROXY_UPSTREAM_TLS, or ARCPROXY_UPSTREAM_TIMEOUT.
 */
export function openProxyConnection(
  proxy: UpstreamProxy,
  opts: { timeoutMs: number; ca?: string | Buffer | undefined },
): Promise<net.Socket> {
  const { socket, secure } = connectToProxy(proxy, opts.ca);
  return whenConnected(socket, secure ? 'secureConnect' : 'connect', opts.timeoutMs, (err) =>
    upstreamProxyError(err, proxy),
  );
}

export function openUpstreamTunnel(
  proxy: UpstreamProxy,
  target: Target,
  opts: UpstreamTunnelOptions,
): Promise<Tunnel> {
  const { socket, secure } = connectToProxy(proxy, opts.ca);
  const authority = formatTarget(target);
  const request =
    `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n` +
    (proxy.authorization ? `Proxy-Authorization: ${proxy.authorization}\r\n` : '') +
    '\r\n';
  socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(request));
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: AgentError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () =>
        fail(
          new AgentError(
            'ARCPROXY_UPSTREAM_TIMEOUT',
            `enterprise proxy ${proxy.display} did not answer CONNECT`,
          ),
        ),
      opts.timeoutMs,
    );
    readAnswerHead(socket).then(
      (answer) => {
        if (answer.status === 200) {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({
            socket,
            overheadWritten: Buffer.byteLength(request),
            overheadRead: answer.size,
            head: answer.rest,
          });
        } else if (answer.status === 407) {
          fail(
            new AgentError(
              'ARCPROXY_UPSTREAM_PROXY_AUTH',
              `${proxy.display} answered 407 to CONNECT ${authority}`,
            ),
          );
        } else {
          fail(
            opts.refusal?.(answer.status) ??
              new AgentError(
                'ARCPROXY_UPSTREAM_PROXY_REFUSED',
                `${proxy.display} answered ${answer.status ?? 'garbage'} to CONNECT ${authority}`,
              ),
          );
        }
      },
      (err: AnswerHeadError) => {
        if (err.reason === 'socket' && err.socketError) fail(upstreamProxyError(err.socketError, proxy));
        else if (err.reason === 'too-large')
          fail(new AgentError('ARCPROXY_UPSTREAM_PROXY_REFUSED', 'answer head too large'));
        else
          fail(
            new AgentError(
              'ARCPROXY_UPSTREAM_PROXY_REFUSED',
              `${proxy.display} closed the connection before answering`,
            ),
          );
      },
    );
  });
}

/** Failures on the way to the enterprise proxy name the proxy, not the destination. */
export function upstreamProxyError(err: NodeJS.ErrnoException, proxy: UpstreamProxy): AgentError {
  if (
    err.code === 'ECONNREFUSED' ||
    err.code === 'ENOTFOUND' ||
    err.code === 'EAI_AGAIN' ||
    err.code === 'EHOSTUNREACH'
  ) {
    return new AgentError('ARCPROXY_UPSTREAM_PROXY_UNREACHABLE', `${proxy.display} (${err.code})`, {
      cause: err,
    });
  }
  if (err.code && TLS_FAILURE.test(err.code)) {
    return new AgentError('ARCPROXY_UPSTREAM_TLS', `${proxy.display} (${err.code})`, { cause: err });
  }
  return dialError(err, `enterprise proxy ${proxy.display}`);
}
