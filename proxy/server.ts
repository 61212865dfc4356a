// The Arc Proxy's listener: loopback clients only, a connection limit, header size and header-time
// limits, then CONNECT to tunnel.ts, absolute-form requests to forward.ts, and its own small API
// (GET /metrics, /stats, /denied, /health) for origin-form requests.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import {
  AgentError,
  NO_CLOUD_CONFIG,
  type CloudConfig,
  type CloudProfile,
  type LocalConfig,
  type Logger,
} from '../core/index.ts';
import { type ClientIdentity, createGatewayTlsCache } from '../gateway-client/index.ts';
import { createForwardPools, handleForward } from './forward.ts';
import { Meter, deniedDestinations, publishRefusal, toPrometheus, type MeterSnapshot } from './meter.ts';
import { replyOnResponse, replyOnSocket } from './reply.ts';
import { type RoutePolicy, buildPolicy } from './route.ts';
import { isLoopbackHost } from './target.ts';
import { handleConnect, inFlight, type OpenTunnel } from './tunnel.ts';
import type { DialOptions } from './dial.ts';

export interface ProxyLimits {
  maxConnections: number;
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export const DEFAULT_LIMITS: ProxyLimits = {
  maxConnections: 2048,
  maxHeaderBytes: 32 * 1024,
  headersTimeoutMs: 20_000,
  idleTimeoutMs: 15 * 60_000,
  connectTimeoutMs: 15_000,
  responseTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5_000,
};

export interface ArcProxyOptions {
  log: Logger;
  config: LocalConfig;
  cloud: CloudProfile;
  /** HTTPS_PROXY / HTTP_PROXY of the process environment, read by the bootstrap. */
  envProxy?: string | undefined;
  limits?: Partial<ProxyLimits>;
  /** Extra CAs for TLS to an https:// enterprise proxy (beside NODE_EXTRA_CA_CERTS). */
  upstreamCa?: string | Buffer;
  meter?: Meter;
  /** cloudconfig.json: the Arc gateway the cloud associates with this machine; none by default. */
  cloudConfig?: CloudConfig;
  /** The machine certificate for the gateway, as it is now; none by default (before connect). */
  machineIdentity?: () => ClientIdentity | undefined;
  /** The CA the gateway's certificate must chain to; by default the cloud profile's caFile, else the system's roots. */
  gatewayCa?: string | Buffer;
}

export interface ArcProxy {
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** The same API, without the proxy, on a Unix socket for the CLI. */
  listenAdmin(path: string): Promise<void>;
  /** Applies a new configuration to new connections; open tunnels keep their route. */
  setConfig(config: LocalConfig): void;
  /** Applies a new cloudconfig.json (the gateway) to new connections; open tunnels keep their route. */
  setCloudConfig(cloudConfig: CloudConfig): void;
  /** The URL of the Arc gateway new connections may use, or null when none is in use. */
  readonly gatewayUrl: string | null;
  /** Stops accepting, lets open tunnels finish up to `drainMs`, then cuts what is left. */
  close(drainMs?: number): Promise<void>;
  readonly meter: Meter;
  readonly openConnections: number;
  readonly openTunnels: number;
}

export function createArcProxy(options: ArcProxyOptions): ArcProxy {
  const { log, cloud } = options;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const meter = options.meter ?? new Meter();
  meter.subscribe();

  const dialOptions: DialOptions = {
    connectTimeoutMs: limits.connectTimeoutMs,
    resolve: cloud.resolve,
    upstreamCa: options.upstreamCa,
    gatewayCa: options.gatewayCa ?? (cloud.caFile ? readFileSync(cloud.caFile) : undefined),
    identity: options.machineIdentity ?? (() => undefined),
    gatewayTls: createGatewayTlsCache(),
  };
  let policy: RoutePolicy;
  const pools = createForwardPools({
    idleMs: 4_000,
    responseTimeoutMs: limits.responseTimeoutMs,
    dialOptions,
  });
  let config = options.config;
  let cloudConfig = options.cloudConfig ?? NO_CLOUD_CONFIG;
  const apply = () => {
    const built = buildPolicy({ config, cloud, cloudConfig, envProxy: options.envProxy });
    for (const problem of built.problems) log.warn(problem);
    policy = built.policy;
    pools.retain(policy);
    log.info(
      {
        mode: policy.mode,
        upstream: policy.upstream?.display ?? 'none',
        connectionType: config['connection.type'],
        gateway: policy.gateway?.gateway.url ?? 'none',
        bypass: policy.gateway ? config['gateway.bypass'] : config['proxy.bypass'],
      },
      'arcproxy configuration applied',
    );
  };
  apply();
  const setConfig = (next: LocalConfig) => {
    config = next;
    apply();
  };
  const setCloudConfig = (next: CloudConfig) => {
    cloudConfig = next;
    apply();
  };
  const gatewayUrl = () => policy.gateway?.gateway.url ?? null;
  const tunnels = new Map<net.Socket, OpenTunnel | undefined>();
  const sockets = new Set<net.Socket>();
  const tunnelDeps = {
    policy: () => policy,
    dialOptions: () => dialOptions,
    idleTimeoutMs: limits.idleTimeoutMs,
    log,
    tunnels,
  };
  const forwardDeps = { policy: () => policy, pools, log };

  const gauges = () => ({ arcproxy_open_connections: sockets.size, arcproxy_open_tunnels: tunnels.size });
  const port = () => (tcpServer.address() as AddressInfo | null)?.port;
  const api = (req: http.IncomingMessage, res: http.ServerResponse) =>
    serveApi(
      req,
      res,
      () => meter.snapshot(inFlight(tunnels)),
      gauges,
      port,
      gatewayUrl,
      (err) => {
        log.warn({ path: (req.url ?? '/').split('?')[0], code: err.code }, err.message);
        publishRefusal(err.code);
        replyOnResponse(res, err);
      },
    );

  const httpServer = http.createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: 0,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, limits.headersTimeoutMs / 4)),
    noDelay: true,
  });
  httpServer.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url?.startsWith('/')) api(req, res);
    else handleForward(req, res, forwardDeps);
  });
  httpServer.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) =>
    handleConnect(req, socket, head, tunnelDeps),
  );
  httpServer.on('upgrade', (_req: http.IncomingMessage, socket: net.Socket) => {
    refuseRaw(
      socket,
      new AgentError('ARCPROXY_BAD_REQUEST', 'protocol upgrades are not forwarded; use CONNECT'),
    );
  });
  httpServer.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const agentErr =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? new AgentError('ARCPROXY_HEADERS_TOO_LARGE', `more than ${limits.maxHeaderBytes} bytes`)
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? new AgentError('ARCPROXY_HEADERS_TIMEOUT', `not complete within ${limits.headersTimeoutMs} ms`)
          : connectLineTarget(err) !== undefined
            ? new AgentError('ARCPROXY_BAD_TARGET', JSON.stringify(connectLineTarget(err)))
            : new AgentError('ARCPROXY_BAD_REQUEST', err.code ?? 'unparseable');
    refuseRaw(socket, agentErr);
  });
  const refuseRaw = (socket: net.Socket, err: AgentError) => {
    log.warn({ remotePort: socket.remotePort, code: err.code }, err.message);
    publishRefusal(err.code);
    replyOnSocket(socket, err);
  };

  // Our own accept loop: loopback check and connection limit before the HTTP parser sees a byte.
  const tcpServer = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    if (!isLoopbackHost(socket.remoteAddress ?? '')) {
      refuseRaw(socket, new AgentError('ARCPROXY_NOT_LOOPBACK', String(socket.remoteAddress)));
      return;
    }
    if (sockets.size >= limits.maxConnections) {
      refuseRaw(socket, new AgentError('ARCPROXY_TOO_MANY_CONNECTIONS', `limit ${limits.maxConnections}`));
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    httpServer.emit('connection', socket);
  });

  let adminServer: http.Server | undefined;

  return {
    meter,
    get openConnections() {
      return sockets.size;
    },
    get openTunnels() {
      return tunnels.size;
    },
    setConfig,
    setCloudConfig,
    get gatewayUrl() {
      return gatewayUrl();
    },
    listen(port, host = '127.0.0.1') {
      if (!isLoopbackHost(host)) {
        return Promise.reject(
          new AgentError('ARGUMENT_INVALID', `the Arc Proxy listens on loopback only, not ${host}`),
        );
      }
      return new Promise((resolve, reject) => {
        tcpServer.once('error', reject);
        tcpServer.listen(port, host, () => {
          tcpServer.off('error', reject);
          // node:http starts tracking connections for headersTimeout (and closeIdleConnections) on its
          // 'listening' event; our sockets come from tcpServer, so httpServer never emits it by itself.
          httpServer.emit('listening');
          resolve(tcpServer.address() as AddressInfo);
        });
      });
    },
    listenAdmin(path) {
      adminServer = http.createServer(api);
      const server = adminServer;
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    },
    async close(drainMs = 5_000) {
      const closed = new Promise<void>((resolve) => tcpServer.close(() => resolve()));
      adminServer?.close();
      httpServer.closeIdleConnections();
      const deadline = Date.now() + drainMs;
      while (tunnels.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const socket of sockets) socket.destroy();
      adminServer?.closeAllConnections();
      await closed;
      httpServer.close(); // stops the connection-checking interval
      pools.close();
      meter.unsubscribe();
    },
  };
}

function serveApi(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  snapshot: () => MeterSnapshot,
  gauges: () => Record<string, number>,
  port: () => number | undefined,
  gatewayUrl: () => string | null,
  refuse: (err: AgentError) => void,
): void {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET') {
    refuse(new AgentError('ARCPROXY_BAD_REQUEST', `${req.method} ${path}: the Arc Proxy API is read-only`));
    return;
  }
  const send = (type: string, text: string) => {
    res.writeHead(200, {
      'content-type': type,
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    });
    res.end(text);
  };
  switch (path) {
    case '/metrics':
      return send('text/plain; version=0.0.4; charset=utf-8', toPrometheus(snapshot(), gauges()));
    case '/stats':
      return send('application/json', JSON.stringify({ ...snapshot(), ...gauges() }));
    case '/denied':
      return send('application/json', JSON.stringify(deniedDestinations(snapshot())));
    case '/health':
      // `gateway`: the gateway new connections may use (null: none), so that connect can wait for it.
      return send(
        'application/json',
        JSON.stringify({ status: 'ok', port: port(), gateway: gatewayUrl(), ...gauges() }),
      );
    default:
      refuse(
        new AgentError(
          'ARCPROXY_BAD_REQUEST',
          `${path} is not a proxy request; the Arc Proxy serves /metrics, /stats, /denied and /health`,
        ),
      );
  }
}

/**
 * The target of a `CONNECT` request line the parser rejected (`CONNECT a b:80 HTTP/1.1`): the
 * failure is in the target, so the client gets ARCPROXY_BAD_TARGET and its advice. Undefined when the
 * error is not in a CONNECT request line.
 */
function connectLineTarget(
  err: NodeJS.ErrnoException & { rawPacket?: Buffer; bytesParsed?: number },
): string | undefined {
  const raw = err.rawPacket;
  if (!err.code?.startsWith('HPE_') || !raw || raw.toString('latin1', 0, 8) !== 'CONNECT ') return undefined;
  const eol = raw.indexOf('\r\n');
  if (eol >= 0 && (err.bytesParsed ?? 0) > eol) return undefined;
  return raw.toString('latin1', 8, Math.min(eol < 0 ? raw.length : eol, 108)).replace(/ HTTP\/\d\.\d$/, '');
}
