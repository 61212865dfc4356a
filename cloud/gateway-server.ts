// The Arc gateway's listener: TLS with the cloud CA's server certificate, asking every client for a
// certificate without requiring one, then HTTP/1.1 inside TLS where each CONNECT names a target
// (reference section 6.2, "nested CONNECT"). decideTunnel() says yes or no; here we dial, answer
// 200, and relay bytes both ways with pipe(), half-closes included. One log line per tunnel.
//
//   machine --TLS(gateway cert, machine cert)--> gateway: CONNECT target:port --TCP--> target
//           <------------ inner end-to-end TLS from the machine to the target ------------>
import { randomUUID, type X509Certificate } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../core/index.ts';
import { formatTarget, parseAuthority, type Target } from './gateway-target.ts';
import { socketCertificate } from './client-certificate.ts';
import { decideTunnel, type PeerIdentity } from './gateway-decision.ts';
import type { TargetSet } from './gateway-target.ts';
import { GatewayError } from './errors.ts';

export const GATEWAY_ERROR_HEADER = 'x-arc-gateway-error';
const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

export interface GatewayServerOptions {
  tls: { keyPem: string; certPem: string; caPem: string };
  /** The gateway this listener stands for: database key and ARM id. */
  gateway: { key: string; id: string };
  /** Who the client certificate belongs to (checked at every CONNECT: association changes apply at once). */
  identify: (cert: X509Certificate | undefined) => PeerIdentity;
  served: TargetSet;
  onboarding: TargetSet;
  /** Where a target really is: the cloud's own names -> its listener, gatewayResolve names, else DNS. */
  locate: (target: Target) => Target;
  /** Opens the TCP connection to the target (a test passes one that never connects). */
  dial?: (to: Target) => net.Socket;
  /** Dialling the target longer than this answers 504 TargetTimeout (default 10 s). */
  connectTimeoutMs?: number;
  /** A tunnel with no bytes either way for this long is closed (default 5 minutes). */
  idleTimeoutMs?: number;
  log: Logger;
}

export interface GatewayServer {
  server: https.Server;
  /** Stops listening and ends every open tunnel. */
  close(): Promise<void>;
}

// No Nagle on either leg: a tunnel's small writes (the 200, a TLS handshake relayed inside it) must not
// wait for the peer's delayed ACK, which costs tens of milliseconds per round trip.
const defaultDial = (to: Target) =>
  net.connect({ host: to.host, port: to.port, allowHalfOpen: true, noDelay: true });

function refusalText(err: GatewayError): string {
  const body = `${JSON.stringify(err.toJSON())}\n`;
  return (
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}\r\n` +
    `content-type: application/json\r\n${GATEWAY_ERROR_HEADER}: ${err.code}\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  );
}

/** On a socket the HTTP server no longer owns (after CONNECT): the refusal, then close. */
function refuseOnSocket(socket: net.Socket, err: GatewayError): void {
  if (socket.destroyed) return;
  socket.end(refusalText(err));
  socket.destroySoon();
}

function refuseOnResponse(res: ServerResponse, err: GatewayError): void {
  const body = `${JSON.stringify(err.toJSON())}\n`;
  res.shouldKeepAlive = false;
  res.writeHead(err.status, {
    'content-type': 'application/json',
    [GATEWAY_ERROR_HEADER]: err.code,
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
}

export function createGatewayServer(o: GatewayServerOptions): GatewayServer {
  const dial = o.dial ?? defaultDial;
  const connectTimeoutMs = o.connectTimeoutMs ?? 10_000;
  const idleTimeoutMs = o.idleTimeoutMs ?? 300_000;
  /** Client sockets of open tunnels (and of tunnels being dialled), to end them at close(). */
  const open = new Map<net.Socket, net.Socket>();

  const server = https.createServer(
    {
      key: o.tls.keyPem,
      cert: o.tls.certPem,
      // Names our CA in the CertificateRequest, so that machines offer their certificate.
      ca: o.tls.caPem,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      noDelay: true,
      // A tunnel relays half-closes: the client's FIN must not end our direction toward it.
      allowHalfOpen: true,
      headersTimeout: 30_000,
      requestTimeout: 30_000,
    },
    (req: IncomingMessage, res: ServerResponse) => {
      // Not a CONNECT: a probe gets an HTTP answer, anything else is a client that does not speak gateway.
      if (req.method === 'GET' && (req.url === '/' || req.url === '')) {
        const body = JSON.stringify({ service: 'arc-local-gateway', id: o.gateway.id });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      refuseOnResponse(
        res,
        new GatewayError(
          'BadRequest',
          `The gateway tunnels with CONNECT host:port; ${req.method} is not served.`,
        ),
      );
    },
  );

  server.on('connect', (req: IncomingMessage, raw: Duplex, head: Buffer) => {
    const socket = raw as TLSSocket;
    const target = parseAuthority(req.url ?? '');
    const conn = randomUUID();
    // The HTTP server has let go of the socket, its error listener too: a reset must not go unheard.
    socket.on('error', (err: Error) =>
      o.log.debug({ conn, err: err.message }, 'gateway client socket error'),
    );
    if (!target) {
      o.log.info({ conn, code: 'BadRequest' }, 'gateway refused a CONNECT without host:port');
      refuseOnSocket(
        socket,
        new GatewayError(
          'BadRequest',
          `CONNECT needs host:port (RFC 9110 section 9.3.6), not ${JSON.stringify((req.url ?? '').slice(0, 100))}.`,
        ),
      );
      return;
    }
    const destination = formatTarget(target);
    const identity = o.identify(socketCertificate(socket));
    const decision = decideTunnel({
      target,
      identity,
      onboarding: o.onboarding.serves(target),
      served: o.served.serves(target),
      gateway: o.gateway,
    });
    if (decision.kind === 'refuse') {
      const machine = identity.kind === 'machine' ? identity.resourceId : null;
      o.log.info({ conn, target: destination, machine, code: decision.error.code }, decision.error.message);
      refuseOnSocket(socket, decision.error);
      return;
    }
    const log = o.log.child({ conn, target: destination, machine: decision.machine ?? null });
    relay(socket, head, target, log);
  });

  function relay(socket: TLSSocket, head: Buffer, target: Target, log: Logger): void {
    const upstream = dial(o.locate(target));
    open.set(socket, upstream);
    let connected = false;
    let failed = false;
    const fail = (err: GatewayError) => {
      if (failed || connected) return;
      failed = true;
      clearTimeout(timer);
      upstream.destroy();
      log.info({ code: err.code }, err.message);
      refuseOnSocket(socket, err);
    };
    const timer = setTimeout(
      () =>
        fail(
          new GatewayError(
            'TargetTimeout',
            `${formatTarget(target)} did not answer within ${connectTimeoutMs} ms.`,
          ),
        ),
      connectTimeoutMs,
    );
    upstream.once('connect', () => {
      if (failed) return;
      connected = true;
      clearTimeout(timer);
      log.debug('gateway tunnel open');
      socket.write(ESTABLISHED);
      if (head.length > 0) upstream.write(head);
      // pipe() ends the other side when one side ends: a half-close travels through.
      socket.pipe(upstream);
      upstream.pipe(socket);
      socket.setTimeout(idleTimeoutMs, () => {
        log.info({ idleTimeoutMs }, 'gateway tunnel idle: closing');
        socket.destroy();
        upstream.destroy();
      });
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected)
        fail(new GatewayError('TargetUnreachable', `${formatTarget(target)}: ${err.code ?? err.message}`));
      else socket.destroy();
    });
    socket.on('error', () => upstream.destroy());
    // A side that closes cleanly has had its data flushed by pipe(); one that failed takes the other down.
    let closed = 0;
    const closedOne = () => {
      if (++closed < 2 || !connected) return;
      // Payload both ways, from the plain TCP side's counters (the client side counts TLS records).
      log.info({ sent: upstream.bytesWritten, received: upstream.bytesRead }, 'gateway tunnel closed');
    };
    upstream.once('close', (hadError) => {
      if (hadError && connected) socket.destroy();
      closedOne();
    });
    socket.once('close', (hadError) => {
      open.delete(socket);
      clearTimeout(timer);
      if (hadError || !connected) upstream.destroy();
      else upstream.end();
      closedOne();
    });
  }

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const e = new GatewayError('BadRequest', `Not an HTTP/1.1 request (${err.code ?? err.message}).`);
    if ((socket as net.Socket).writable) refuseOnSocket(socket as net.Socket, e);
    else socket.destroy();
  });
  server.on('tlsClientError', (err: Error) =>
    o.log.debug({ err: err.message }, 'gateway TLS handshake failed'),
  );

  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const [client, upstream] of open) {
          client.destroy();
          upstream.destroy();
        }
        open.clear();
        server.closeAllConnections();
      }),
  };
}
