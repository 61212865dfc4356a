// The Arc Proxy as a service of the agent: configuration from <home>/localconfig.json and the Arc
// gateway from <home>/cloudconfig.json (both watched, so a change applies to new connections without
// a restart), the machine certificate for the gateway from <home>/certs/ (watched too), meter totals
// persisted under <home>/meter/, and the API on <home>/socks/arcproxy.sock for the CLI.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  type CloudConfig,
  type HomeLayout,
  type Logger,
  NO_CLOUD_CONFIG,
  ensureHome,
  loadCloudProfile,
  readCloudConfig,
  readLocalConfig,
  redactUrl,
  watchCloudConfig,
  watchLocalConfig,
} from '../core/index.ts';
import { watchMachineIdentity } from '../gateway-client/index.ts';
import { Meter } from './meter.ts';
import { type ArcProxy, type ProxyLimits, createArcProxy } from './server.ts';
import { isLoopbackHost, parseAuthority } from './target.ts';

export const DEFAULT_PROXY_PORT = 40343;
const SAVE_EVERY_MS = 10_000;
/** Full collections once the proxy is idle after traffic, one per SAVE_EVERY_MS. */
const COLLECTIONS_AFTER_TRAFFIC = 3;

export const meterFile = (home: HomeLayout) => join(home.meter, 'arcproxy.json');
export const adminSocket = (home: HomeLayout) => join(home.socks, 'arcproxy.sock');

export interface ArcProxyServiceOptions {
  home: HomeLayout;
  log: Logger;
  port: number;
  /** A built-in cloud name or a cloud profile file. */
  cloud: string;
  env: NodeJS.ProcessEnv;
  limits?: Partial<ProxyLimits>;
  upstreamCa?: string | Buffer;
}

export interface ArcProxyService {
  proxy: ArcProxy;
  address: AddressInfo;
  stop(drainMs?: number): Promise<void>;
}

export async function startArcProxyService(opts: ArcProxyServiceOptions): Promise<ArcProxyService> {
  const { home, log } = opts;
  await ensureHome(home);
  const [config, cloud, cloudConfig] = await Promise.all([
    readLocalConfig(home.localConfig),
    loadCloudProfile(opts.cloud),
    readCloudConfig(home.cloudConfig).catch((err: Error): CloudConfig => {
      log.error({ err: err.message }, 'cloudconfig.json not read; no Arc gateway until it is fixed');
      return NO_CLOUD_CONFIG;
    }),
  ]);
  const identity = watchMachineIdentity(home, log);
  await identity.ready;
  const meter = new Meter();
  await meter
    .load(meterFile(home))
    .catch((err: Error) =>
      log.warn({ err: err.message }, 'meter totals could not be read; starting from zero'),
    );
  const proxy = createArcProxy({
    log,
    config,
    cloud,
    envProxy: environmentProxy(opts.env, opts.port, log),
    meter,
    cloudConfig,
    machineIdentity: () => identity.current(),
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.upstreamCa ? { upstreamCa: opts.upstreamCa } : {}),
  });
  const address = await proxy.listen(opts.port);
  await rm(adminSocket(home), { force: true });
  await proxy.listenAdmin(adminSocket(home));
  const watcher = watchLocalConfig(
    home.localConfig,
    (config) => proxy.setConfig(config),
    (err) =>
      log.error(
        { err: (err as Error).message },
        'configuration change not applied; the previous configuration stays in force',
      ),
  );
  const cloudWatcher = watchCloudConfig(
    home.cloudConfig,
    (cloudConfig) => proxy.setCloudConfig(cloudConfig),
    (err) =>
      log.error(
        { err: (err as Error).message },
        'cloudconfig.json change not applied; the previous gateway setting stays in force',
      ),
  );
  const save = () =>
    meter
      .save(meterFile(home))
      .catch((err: Error) => log.warn({ err: err.message }, 'meter totals not saved'));
  // Once traffic is over (no connection open), full collections on the next few ticks give back what
  // it left behind, the bulk read buffers of tunnels among it, rather than whenever V8 next collects:
  // without them the Arc Proxy stayed at 89 MiB for minutes after bench:proxy's load. The first
  // frees the garbage, the next let V8 give back the pages it emptied. gc() is there when node runs
  // with --expose-gc, as dist/azcmagent.js starts it.
  let collections = 0;
  const timer = setInterval(() => {
    if (meter.changed) collections = COLLECTIONS_AFTER_TRAFFIC;
    void save();
    if (collections > 0 && proxy.openConnections === 0 && globalThis.gc) {
      collections--;
      globalThis.gc();
    }
  }, SAVE_EVERY_MS);
  timer.unref();
  return {
    proxy,
    address,
    async stop(drainMs) {
      watcher.close();
      cloudWatcher.close();
      identity.close();
      clearInterval(timer);
      await proxy.close(drainMs);
      await save();
      await rm(adminSocket(home), { force: true });
    },
  };
}

/**
 * HTTPS_PROXY / HTTP_PROXY of our own environment (lower case wins, as curl and undici do), unless it
 * points back at the Arc Proxy itself: services started by the agent carry that, and following it would loop.
 */
export function environmentProxy(env: NodeJS.ProcessEnv, ownPort: number, log: Logger): string | undefined {
  const value = env['https_proxy'] || env['HTTPS_PROXY'] || env['http_proxy'] || env['HTTP_PROXY'];
  if (!value) return undefined;
  try {
    const url = new URL(value.includes('://') ? value : `http://${value}`);
    const target = parseAuthority(url.host, 80);
    if (target && isLoopbackHost(target.host) && target.port === ownPort) {
      log.info('HTTPS_PROXY points at the Arc Proxy itself; ignored');
      return undefined;
    }
  } catch {
    // buildPolicy reports a malformed proxy
  }
  log.info({ proxy: redactUrl(value) }, 'enterprise proxy from the environment (proxy.url is empty)');
  return value;
}
