// The Arc Proxy's listener: loopback clients only, a connection limit, header size and header-time
// limits, then CONNECT to tunnel.ts, absolute-form requests to forward.ts, and its own small API
// (GET /metrics, /stats, /denied, /health) for origin-form requests.
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
import { type ApiAnswer, type FrontDeps, serveConnection } from './client-connection.ts';
import { Deadlines } from './deadlines.ts';
import { type ForwardDeps, forward } from './forward.ts';
import { headerValues } from './http1.ts';
import { Meter, deniedDestinations, publishRefusal, toPrometheus, type MeterSnapshot } from './meter.ts';
import { replyOnSocket } from './reply.ts';
import { type RoutePolicy, buildPolicy } from './route.ts';
import { isLoopbackHost } from './target.ts';
import { type Member, OpenList } from './open-list.ts';
import { handleConnect, inFlight, type OpenTunnel } from './tunnel.ts';
import type { DialOptions } from './dial.ts';
import { UpstreamPool } from './upstream-pool.ts';

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
  // Idle connections to destinations close before the usual 5 s of origins would close them.
  const pool = new UpstreamPool(4_000);
  let config = options.config;
  let cloudConfig = options.cloudConfig ?? NO_CLOUD_CONFIG;
  const apply = () => {
    const built = buildPolicy({ config, cloud, cloudConfig, envProxy: options.envProxy });
    for (const problem of built.problems) log.warn(problem);
    policy = built.policy;
    pool.retire();
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
  const tunnels = new OpenList<OpenTunnel>();
  const sockets = new OpenList<OpenSocket>();
  const deadlines = new Deadlines(
    Math.max(
      100,
      Math.min(
        1_000,
        Math.min(limits.headersTimeoutMs, limits.responseTimeoutMs, limits.keepAliveTimeoutMs) / 4,
      ),
    ),
  );
  const tunnelDeps = {
    policy: () => policy,
    dialOptions: () => dialOptions,
    idleTimeoutMs: limits.idleTimeoutMs,
    log,
    tunnels,
  };
  const forwardDeps: ForwardDeps = {
    policy: () => policy,
    pool,
    dialOptions,
    deadlines,
    responseTimeoutMs: limits.responseTimeoutMs,
    maxHeaderBytes: limits.maxHeaderBytes,
    log,
  };
  const refused = (socket: net.Socket, err: AgentError) => {
    log.warn({ remotePort: socket.remotePort, code: err.code }, err.message);
    publishRefusal(err.code);
  };

  const gauges = () => ({ arcproxy_open_connections: sockets.size, arcproxy_open_tunnels: tunnels.size });
  const port = () => (tcpServer.address() as AddressInfo | null)?.port;
  const api = (method: string, target: string) =>
    answerApi(method, target, () => meter.snapshot(inFlight(tunnels)), gauges, port, gatewayUrl);
  const front: FrontDeps = {
    maxHeaderBytes: limits.maxHeaderBytes,
    headersTimeoutMs: limits.headersTimeoutMs,
    keepAliveTimeoutMs: limits.keepAliveTimeoutMs,
    deadlines,
    tunnel: (head, socket, rest) =>
      handleConnect(
        head.target,
        headerValues(head.headers, 'proxy-authorization')[0],
        socket,
        rest,
        tunnelDeps,
      ),
    forward: (request) => forward(request, forwardDeps),
    api,
    refused,
  };
  // The admin socket (for the CLI) serves the API only.
  const notHere = (what: string) =>
    new AgentError('ARCPROXY_BAD_REQUEST', `${what} goes to the Arc Proxy's port, not its admin socket`);
  const adminFront: FrontDeps = {
    ...front,
    tunnel: (_head, socket) => replyOnSocket(socket, notHere('CONNECT')),
    forward: (request) => request.abort(notHere('a proxy request')),
  };

  // Our own accept loop: loopback check and connection limit before a byte is read.
  const tcpServer = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    const peer = socket.remoteAddress;
    if (peer === undefined) {
      socket.destroy(); // reset before it was accepted: nobody to answer
      return;
    }
    if (!isLoopbackHost(peer)) {
      refuseRaw(socket, new AgentError('ARCPROXY_NOT_LOOPBACK', peer));
      return;
    }
    if (sockets.size >= limits.maxConnections) {
      refuseRaw(socket, new AgentError('ARCPROXY_TOO_MANY_CONNECTIONS', `limit ${limits.maxConnections}`));
      return;
    }
    track(sockets, socket);
    serveConnection(socket, front);
  });
  const refuseRaw = (socket: net.Socket, err: AgentError) => {
    refused(socket, err);
    replyOnSocket(socket, err);
  };

  let adminServer: net.Server | undefined;
  const adminSockets = new OpenList<OpenSocket>();

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
          resolve(tcpServer.address() as AddressInfo);
        });
      });
    },
    listenAdmin(path) {
      const server = net.createServer((socket) => {
        socket.on('error', () => socket.destroy());
        track(adminSockets, socket);
        serveConnection(socket, adminFront);
      });
      adminServer = server;
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
      const deadline = Date.now() + drainMs;
      while (tunnels.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const open of [...sockets.toArray(), ...adminSockets.toArray()]) open.socket.destroy();
      await closed;
      deadlines.close();
      pool.close();
      meter.unsubscribe();
    },
  };
}

interface OpenSocket extends Member {
  socket: net.Socket;
}

/** Keeps `socket` in `list` until it closes. */
function track(list: OpenList<OpenSocket>, socket: net.Socket): void {
  const open = { slot: -1, socket };
  list.add(open);
  socket.once('close', () => list.delete(open));
}

function answerApi(
  method: string,
  target: string,
  snapshot: () => MeterSnapshot,
  gauges: () => Record<string, number>,
  port: () => number | undefined,
  gatewayUrl: () => string | null,
): ApiAnswer | AgentError {
  const path = target.split('?')[0]!;
  if (method !== 'GET') {
    return new AgentError('ARCPROXY_BAD_REQUEST', `${method} ${path}: the Arc Proxy API is read-only`);
  }
  const json = (value: unknown) => ({ type: 'application/json', body: JSON.stringify(value) });
  switch (path) {
    case '/metrics':
      return { type: 'text/plain; version=0.0.4; charset=utf-8', body: toPrometheus(snapshot(), gauges()) };
    case '/stats':
      return json({ ...snapshot(), ...gauges() });
    case '/denied':
      return json(deniedDestinations(snapshot()));
    case '/health':
      // `gateway`: the gateway new connections may use (null: none), so that connect can wait for it.
      return json({ status: 'ok', port: port(), gateway: gatewayUrl(), ...gauges() });
    default:
      return new AgentError(
        'ARCPROXY_BAD_REQUEST',
        `${path} is not a proxy request; the Arc Proxy serves /metrics, /stats, /denied and /health`,
      );
  }
}
