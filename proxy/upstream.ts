// The hop through the enterprise proxy: TCP (http://) or TLS (https://) to the proxy, then
// `CONNECT host:port` with our Proxy-Authorization, then the raw tunnel (RFC 9110 section 9.3.6).
//
//   client --CONNECT--> Arc Proxy --[TLS]--> enterprise proxy --CONNECT--> destination
import net from 'node:net';
import { AgentError } from '../core/index.ts';
import type { UpstreamProxy } from './route.ts';
import { type Target, formatTarget } from './target.ts';
import { dialError } from './dial-error.ts';

export interface UpstreamTunnel {
  socket: net.Socket;
  /** Bytes that went to and came from the proxy itself (our CONNECT and its answer), not payload. */
  overheadWritten: number;
  overheadRead: number;
  /** Payload that arrived together with the proxy's answer. */
  head: Buffer;
}

const MAX_RESPONSE_HEAD = 16 * 1024;

export function openUpstreamTunnel(
  proxy: UpstreamProxy,
  target: Target,
  opts: { timeoutMs: number; ca?: string | Buffer | undefined },
): Promise<UpstreamTunnel> {
  const { url } = proxy;
  const secure = url.protocol === 'https:';
  const port = Number(url.port) || (secure ? 443 : 80);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = secure
      ? process
          .getBuiltinModule('node:tls')
          .connect({ host, port, servername: net.isIP(host) ? undefined : host, ca: opts.ca })
      : net.connect({ host, port, allowHalfOpen: true });
    socket.setNoDelay(true);
    let settled = false;
    const fail = (err: AgentError) => {
      if (settled) return;
      settled = true;
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
    const authority = formatTarget(target);
    const request =
      `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n` +
      (proxy.authorization ? `Proxy-Authorization: ${proxy.authorization}\r\n` : '') +
      '\r\n';
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(request));
    let buffered: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > MAX_RESPONSE_HEAD)
          fail(new AgentError('ARCPROXY_UPSTREAM_PROXY_REFUSED', 'answer head too large'));
        return;
      }
      socket.off('data', onData);
      clearTimeout(timer);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(buffered.toString('latin1', 0, Math.min(end, 64)))?.[1];
      if (status === '200') {
        settled = true;
        socket.off('error', onError);
        socket.off('close', onClose);
        socket.pause();
        resolve({
          socket,
          overheadWritten: Buffer.byteLength(request),
          overheadRead: end + 4,
          head: buffered.subarray(end + 4),
        });
      } else if (status === '407') {
        fail(
          new AgentError(
            'ARCPROXY_UPSTREAM_PROXY_AUTH',
            `${proxy.display} answered 407 to CONNECT ${authority}`,
          ),
        );
      } else {
        fail(
          new AgentError(
            'ARCPROXY_UPSTREAM_PROXY_REFUSED',
            `${proxy.display} answered ${status ?? 'garbage'} to CONNECT ${authority}`,
          ),
        );
      }
    };
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      fail(upstreamProxyError(err, proxy));
    };
    const onClose = () => {
      clearTimeout(timer);
      fail(
        new AgentError(
          'ARCPROXY_UPSTREAM_PROXY_REFUSED',
          `${proxy.display} closed the connection before answering`,
        ),
      );
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

/**
 * TLS failures as Node names them in `err.code`: OpenSSL's certificate verification results
 * (X509_V_ERR_* without the prefix: UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED,
 * SELF_SIGNED_CERT_IN_CHAIN, ...), the host name check (ERR_TLS_CERT_ALTNAME_INVALID) and handshake errors.
 */
const TLS_FAILURE =
  /^(?:ERR_SSL_|ERR_TLS_|UNABLE_TO_|CERT_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED_CERT|INVALID_CA|INVALID_PURPOSE|HOSTNAME_MISMATCH|PATH_LENGTH_EXCEEDED)/;

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
