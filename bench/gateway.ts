// The gateway route in `npm run bench:proxy`: a second Arc Proxy (same build) connected to a local
// cloud through its Arc gateway. It opens tunnels to, and downloads the bulk body from, the same
// origins twice: by a name the gateway serves (route gateway: TLS to the gateway with the machine
// certificate, then a nested CONNECT) and by their loopback address (route direct), alternately.
//
//   direct:   client --CONNECT 127.0.0.1:P--> Arc Proxy --TCP--> origin
//   gateway:  client --CONNECT origin.bench.test:P--> Arc Proxy --TLS+CONNECT--> gateway --TCP--> origin
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runBulk, runTunnelRate, type TunnelRateResult } from './loads.ts';
import { type Service, runBounded, sleep, startService, stopService } from './processes.ts';

export interface RouteSample {
  bulkMBps: number;
  tunnels: TunnelRateResult;
}

export type RouteName = 'direct' | 'gateway';

export type GatewayResults = Record<RouteName, RouteSample[]>;

export interface GatewayBenchOptions {
  work: string;
  cwd: string;
  /** How this benchmark runs TypeScript (the tunnel client). */
  node: readonly string[];
  /** The azcmagent bundle and node flags, as for the main Arc Proxy. */
  proxyArgv: readonly string[];
  originPort: number;
  bulkPort: number;
  bulkMiB: number;
  reps: number;
  tunnelSeconds: number;
  connections: number;
  say: (text: string) => void;
}

const NAMES = { origin: 'origin.bench.test', bulk: 'bulk.bench.test' };

export async function measureGatewayRoute(o: GatewayBenchOptions): Promise<GatewayResults> {
  const world = await startGatewayWorld(o);
  const { cloud, proxy } = world;
  try {
    await connectThroughGateway(o, world);
    const run = async (route: RouteName): Promise<RouteSample> => {
      const named = route === 'gateway';
      const bulkMBps = await runBulk({
        bulkPort: o.bulkPort,
        proxyPort: proxy.port,
        expectBytes: o.bulkMiB * (1 << 20),
        ...(named ? { host: NAMES.bulk } : {}),
      });
      await sleep(1000);
      const tunnels = await runTunnelRate({
        node: o.node,
        proxyPort: proxy.port,
        originPort: o.originPort,
        connections: o.connections,
        seconds: o.tunnelSeconds,
        cwd: o.cwd,
        ...(named ? { host: NAMES.origin } : {}),
      });
      await sleep(2000);
      return { bulkMBps, tunnels };
    };
    await run('direct');
    await run('gateway');
    const results: GatewayResults = { direct: [], gateway: [] };
    for (let rep = 1; rep <= o.reps; rep++) {
      for (const route of ['direct', 'gateway'] as const) {
        const m = await run(route);
        results[route].push(m);
        o.say(
          `rep ${rep} ${route.padEnd(8)} route: bulk ${m.bulkMBps.toFixed(0)} MB/s; ` +
            `tunnels ${m.tunnels.rate}/s (ok ${m.tunnels.ok}, err ${m.tunnels.err})`,
        );
      }
    }
    await checkRoutes(proxy);
    return results;
  } finally {
    await Promise.all([proxy, cloud].map((svc) => stopService(svc)));
  }
}

interface GatewayWorld {
  cloud: Service;
  proxy: Service;
  home: string;
  data: string;
}

async function startGatewayWorld(o: GatewayBenchOptions): Promise<GatewayWorld> {
  const data = join(o.work, 'cloud');
  const home = join(o.work, 'gateway-home');
  await mkdir(home);
  const served = `${NAMES.origin}:${o.originPort},${NAMES.bulk}:${o.bulkPort}`;
  const resolved = `${NAMES.origin}=127.0.0.1:${o.originPort},${NAMES.bulk}=127.0.0.1:${o.bulkPort}`;
  const cloud = await startService(
    'local cloud',
    [
      process.execPath,
      'dist/arc-local-cloud.js',
      ...['--data', data, '--port', '0', '--gateway-port', '0'],
      ...['--gateway-allow', served, '--gateway-resolve', resolved],
    ],
    /ready on https:\/\/127\.0\.0\.1:(\d+) /,
    { cwd: o.cwd },
  );
  const run = ['run', '--services', 'arcproxy', '--home', home, '--proxy-port', '0'];
  const proxy = await startService(
    'Arc Proxy (gateway)',
    [...o.proxyArgv, ...run, '--cloud', join(data, 'profile.json')],
    /arcproxy ready on http:\/\/127\.0\.0\.1:(\d+)/,
    { cwd: o.cwd },
  );
  return { cloud, proxy, home, data };
}

/** `azcmagent connect` with the file the local cloud writes for its gateway: identity and association. */
async function connectThroughGateway(
  o: GatewayBenchOptions,
  { proxy, home, data }: GatewayWorld,
): Promise<void> {
  await runBounded(
    [...o.proxyArgv, 'connect', '--home', home, '--config', join(data, 'connect-gateway.json')],
    60_000,
    o.cwd,
  );
  o.say(`connected through the local cloud's Arc gateway (Arc Proxy pid ${proxy.pid} on ${proxy.port})`);
}

interface StatsEntry {
  destination: string;
  route: string;
  tunnels: number;
}

/** The meter must show the named origins on route gateway and the loopback ones on route direct. */
async function checkRoutes(proxy: Service): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${proxy.port}/stats`);
  const { entries } = (await res.json()) as { entries: StatsEntry[] };
  const routes = (suffix: string) =>
    new Set(entries.filter((e) => e.destination.startsWith(suffix) && e.tunnels > 0).map((e) => e.route));
  const named = [...routes(NAMES.origin), ...routes(NAMES.bulk)];
  const loopback = [...routes('127.0.0.1:')];
  if (named.some((r) => r !== 'gateway') || loopback.some((r) => r !== 'direct') || named.length === 0)
    throw new Error(
      `gateway bench: routes were ${named.join(',')} (named) and ${loopback.join(',')} (loopback)`,
    );
}
