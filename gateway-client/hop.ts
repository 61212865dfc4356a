// What every outbound hop shares (direct, enterprise proxy, Arc gateway): the address of a peer,
// the tunnel a hop hands back, the resolve map of the cloud profile, and socket errors as stable codes.
// It lives here, below proxy/, because proxy/ uses gateway-client/ and never the other way round.
import net, { isIP, type Socket } from 'node:net';
import { AgentError } from '../core/index.ts';

export interface Target {
  host: string;
  port: number;
}

export const formatTarget = ({ host, port }: Target): string =>
  isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;

/** An open hop: the socket whose payload is the tunnel, and what the hop itself cost on the wire. */
export interface Tunnel {
  socket: Socket;
  /** Bytes that went to and came from the hops themselves (CONNECT requests and answers), not payload. */
  overheadWritten: number;
  overheadRead: number;
  /** Payload that arrived together with the last answer head. */
  head: Buffer;
}

/** Where a host really is: the resolve map's address if it names the host, else the host itself. */
export function resolveTarget(target: Target, resolve: Record<string, string> | undefined): Target {
  const mapped = resolve?.[target.host] ?? resolve?.[formatTarget(target)];
  if (!mapped) return target;
  const colon = mapped.lastIndexOf(':');
  return { host: mapped.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(mapped.slice(colon + 1)) };
}

/**
 * A TCP connection to `target` (through the resolve map) as a tunnel with no overhead, or the
 * AgentError that `failed` makes of the socket error, or of a timeout (`ETIMEDOUT`).
 */
export function connectTcp(
  target: Target,
  o: {
    resolve: Record<string, string> | undefined;
    timeoutMs: number;
    failed: (err: NodeJS.ErrnoException) => AgentError;
    /** Reads into buffers of the caller's choice (net.connect's `onread`): no 'data' events then. */
    onread?: net.OnReadOpts | undefined;
  },
): Promise<Tunnel> {
  const { host, port } = resolveTarget(target, o.resolve);
  const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true, onread: o.onread });
  return whenConnected(socket, 'connect', o.timeoutMs, o.failed).then((socket) => ({
    socket,
    overheadWritten: 0,
    overheadRead: 0,
    head: Buffer.alloc(0),
  }));
}

/**
 * `socket` once it emits `ready` ('connect', or 'secureConnect' for TLS), or the AgentError that
 * `failed` makes of its error, or of a timeout (`ETIMEDOUT`); the socket is destroyed then.
 */
export function whenConnected<S extends net.Socket>(
  socket: S,
  ready: 'connect' | 'secureConnect',
  timeoutMs: number,
  failed: (err: NodeJS.ErrnoException) => AgentError,
): Promise<S> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(failed(Object.assign(new Error(`no connection within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    }, timeoutMs);
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(failed(err));
    };
    socket.once('error', onError);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** A socket error as a stable code; `what` names the peer without secrets. */
export function dialError(err: NodeJS.ErrnoException, what: string): AgentError {
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return new AgentError('ARCPROXY_DNS_FAILURE', `${what} (${err.code})`, { cause: err });
    case 'ECONNREFUSED':
      return new AgentError('ARCPROXY_UPSTREAM_REFUSED', `${what} (${err.code})`, { cause: err });
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new AgentError('ARCPROXY_UPSTREAM_TIMEOUT', `${what} (${err.code})`, { cause: err });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new AgentError('ARCPROXY_UPSTREAM_REFUSED', `${what} (${err.code})`, { cause: err });
    default:
      return new AgentError('ARCPROXY_UPSTREAM_RESET', `${what} (${err.code ?? err.message})`, {
        cause: err,
      });
  }
}

/**
 * TLS failures as Node names them in `err.code`: OpenSSL's certificate verification results
 * (X509_V_ERR_* without the prefix: UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED,
 * SELF_SIGNED_CERT_IN_CHAIN, ...), the host name check (ERR_TLS_CERT_ALTNAME_INVALID) and handshake errors.
 */
export const TLS_FAILURE =
  /^(?:ERR_SSL_|ERR_TLS_|UNABLE_TO_|CERT_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED_CERT|INVALID_CA|INVALID_PURPOSE|HOSTNAME_MISMATCH|PATH_LENGTH_EXCEEDED)/;
