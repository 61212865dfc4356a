// `npm run bench:proxy`: "direct" against the built Arc Proxy (metering on, allow-list enforced) on
// loopback, with the loads of ../shared/bench/proxy-bench.sh, printed as ratios to direct measured in
// the same run beside the targets of the issue.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureGatewayRoute } from './gateway.ts';
import { absoluteUriScript, runBulk, runTunnelRate, runWrk } from './loads.ts';
import { type Service, killAll, rssKiB, runBounded, sleep, startService, stopService } from './processes.ts';
import { GOALS, type Results, type Sample, type Settling, type Target, report } from './report.ts';
import { fmt } from './table.ts';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const NODE_TS = [process.execPath, '--import', 'tsx'];
const CONNECTIONS = 50;
const WARMUP_SECONDS = { wrk: 3, tunnels: 2 };

interface Settings {
  seconds: number;
  tunnelSeconds: number;
  reps: number;
  bulkMiB: number;
  /** The proxy to run: dist/azcmagent.js unless ARCPROXY_BUNDLE names another build (to compare two). */
  bundle: string;
  /**
   * Node flags for the proxy process only (e.g. --max-semi-space-size=4), space-separated. Without
   * them the bundle runs as installed, by its own launch line (and its flags).
   */
  proxyNodeFlags: string[];
  /** The gateway route section (GATEWAY=0 skips it). */
  gateway: boolean;
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const int = (name: string, fallback: number): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${text}: expected a whole number from 1 up`);
    return n;
  };
  return {
    seconds: int('DURATION', 10),
    tunnelSeconds: int('CONN_DURATION', 5),
    reps: int('REPS', 3),
    bulkMiB: int('BULK_MB', 1024),
    bundle: resolve(ROOT, env['ARCPROXY_BUNDLE'] || 'dist/azcmagent.js'),
    proxyNodeFlags: (env['PROXY_NODE_FLAGS'] ?? '').split(/\s+/).filter(Boolean),
    gateway: env['GATEWAY'] !== '0',
  };
}

function requireTools(bundle: string): void {
  const missing = (cmd: string, arg: string) =>
    spawnSync(cmd, [arg], { stdio: 'ignore' }).error !== undefined;
  const problems = [
    missing('wrk', '-v') && 'wrk is not installed: apt-get install wrk',
    missing('curl', '--version') && 'curl is not installed: apt-get install curl',
    !existsSync(bundle) && `${bundle} is missing: run node build.mjs (npm run bench:proxy does)`,
  ].filter((p) => typeof p === 'string');
  if (problems.length === 0) return;
  for (const p of problems) console.error(`bench:proxy: ${p}`);
  process.exit(1);
}

/** Which build ran, since proxy/ may change between runs: the first 12 hex digits of its SHA-256. */
const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex')
    .slice(0, 12);

const say = (text: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${text}`);

interface World {
  origin: Service;
  bulk: Service;
  proxy: Service;
  luaScript: string;
}

const portLine = /^port (\d+)$/m;

/** How the proxy starts: the bundle as installed (an executable), or node with the flags under test. */
const proxyArgv = (s: Settings): string[] =>
  s.proxyNodeFlags.length ? [process.execPath, ...s.proxyNodeFlags, s.bundle] : [s.bundle];

async function startWorld(s: Settings, work: string): Promise<World> {
  const home = join(work, 'home');
  await mkdir(home);
  const config = { 'arcproxy.allowlist.mode': 'enforce', 'arcproxy.allowlist': ['127.0.0.1'] };
  await writeFile(join(home, 'localconfig.json'), JSON.stringify(config));
  const opts = { cwd: ROOT };
  const origin = await startService(
    'small origin',
    [...NODE_TS, 'bench/origin.ts', 'small', '0'],
    portLine,
    opts,
  );
  const bulkArgs = [...NODE_TS, 'bench/origin.ts', 'bulk', '0', String(s.bulkMiB)];
  const bulk = await startService('bulk origin', bulkArgs, portLine, opts);
  const run = ['run', '--services', 'arcproxy', '--home', home, '--proxy-port', '0'];
  const proxy = await startService(
    'Arc Proxy',
    [...proxyArgv(s), ...run],
    /arcproxy ready on http:\/\/127\.0\.0\.1:(\d+)/,
    opts,
  );
  const luaScript = join(work, 'absolute-uri.lua');
  await writeFile(luaScript, absoluteUriScript(origin.port));
  return { origin, bulk, proxy, luaScript };
}

/** One forwarded request must pass and one to a loopback address outside the allow-list must get 403. */
async function checkAllowList(w: World): Promise<void> {
  const status = (host: string) =>
    runBounded(
      ['curl', '-s', '-o', '/dev/null', '--max-time', '10', '-w', '%{http_code}', '-x'].concat(
        `http://127.0.0.1:${w.proxy.port}`,
        `http://${host}:${w.origin.port}/`,
      ),
      15_000,
    );
  const [allowed, denied] = [await status('127.0.0.1'), await status('127.0.0.2')];
  if (allowed !== '200' || denied !== '403')
    throw new Error(`allow-list check: 127.0.0.1 gave ${allowed} (want 200), 127.0.0.2 ${denied} (want 403)`);
  say('allow-list enforced: 127.0.0.1 forwarded (200), 127.0.0.2 refused (403)');
}

/** wrk at the origin itself, or at the proxy with absolute-form requests for the origin. */
const wrkTarget = (target: Target, w: World) =>
  target === 'direct'
    ? { url: `http://127.0.0.1:${w.origin.port}/` }
    : { url: `http://127.0.0.1:${w.proxy.port}`, luaScript: w.luaScript };

async function measure(target: Target, w: World, s: Settings): Promise<Sample> {
  const proxyPort = target === 'direct' ? 0 : w.proxy.port;
  const small = await runWrk({ ...wrkTarget(target, w), seconds: s.seconds, connections: CONNECTIONS });
  await sleep(1000);
  const bulkMBps = await runBulk({
    bulkPort: w.bulk.port,
    ...(proxyPort ? { proxyPort } : {}),
    expectBytes: s.bulkMiB * (1 << 20),
  });
  await sleep(1000);
  const tunnels = await runTunnelRate({
    node: NODE_TS,
    proxyPort,
    originPort: w.origin.port,
    connections: CONNECTIONS,
    seconds: s.tunnelSeconds,
    cwd: ROOT,
  });
  await sleep(2000);
  return { small, bulkMBps, tunnels };
}

async function warmUp(w: World): Promise<void> {
  for (const target of ['direct', 'arcproxy'] as const) {
    await runWrk({ ...wrkTarget(target, w), seconds: WARMUP_SECONDS.wrk, connections: CONNECTIONS });
    await runTunnelRate({
      node: NODE_TS,
      proxyPort: target === 'direct' ? 0 : w.proxy.port,
      originPort: w.origin.port,
      connections: CONNECTIONS,
      seconds: WARMUP_SECONDS.tunnels,
      cwd: ROOT,
    });
  }
  await sleep(2000);
}

const describe = (t: Target, rep: number, m: Sample) =>
  `rep ${rep} ${t.padEnd(8)} small ${fmt(m.small.rps)} req/s p50 ${fmt(m.small.p50Ms, 2)} ms ` +
  `p99 ${fmt(m.small.p99Ms, 2)} ms${m.small.problems ? ` [${m.small.problems}]` : ''}; ` +
  `bulk ${fmt(m.bulkMBps)} MB/s; tunnels ${fmt(m.tunnels.rate)}/s (ok ${m.tunnels.ok}, err ${m.tunnels.err})`;

/** Samples the proxy's RSS every 250 ms, for the peak under load. */
function watchPeak(pid: number): { stop(): number } {
  let peak = 0;
  const timer = setInterval(() => {
    void rssKiB(pid).then((kib) => (peak = Math.max(peak, kib ?? 0)));
  }, 250);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

async function watchSettling(pid: number): Promise<Settling> {
  const t0 = Date.now();
  const afterKiB = (await rssKiB(pid)) ?? NaN;
  let underAfterS = afterKiB < GOALS.settledMiB * 1024 ? 0 : undefined;
  let finalKiB = afterKiB;
  while (Date.now() - t0 < GOALS.settleSeconds * 1000) {
    await sleep(500);
    finalKiB = (await rssKiB(pid)) ?? NaN;
    if (underAfterS === undefined && finalKiB < GOALS.settledMiB * 1024)
      underAfterS = (Date.now() - t0) / 1000;
  }
  return { afterKiB, finalKiB, underAfterS };
}

interface MeterEntry {
  destination: string;
  requests: number;
  tunnels: number;
  denied: number;
}

/** What the proxy's own meter counted, as proof that metering was on during the run. */
async function meterSummary(w: World): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${w.proxy.port}/stats`);
  const stats = (await res.json()) as { entries: MeterEntry[] };
  const sum = (pick: (e: MeterEntry) => number) => stats.entries.reduce((n, e) => n + pick(e), 0);
  return (
    `meter: ${fmt(sum((e) => e.requests))} requests, ${fmt(sum((e) => e.tunnels))} tunnels, ` +
    `${fmt(sum((e) => e.denied))} denied, over ${stats.entries.length} (client, destination, route) entries`
  );
}

async function main(): Promise<void> {
  const s = readSettings(process.env);
  requireTools(s.bundle);
  say(
    `${s.bundle} sha256 ${await sha256(s.bundle)}${s.proxyNodeFlags.length ? `, node ${s.proxyNodeFlags.join(' ')}` : ''}`,
  );
  say(
    `wrk ${s.seconds} s x ${CONNECTIONS} connections, tunnels ${s.tunnelSeconds} s, bulk ${s.bulkMiB} MiB, ${s.reps} repetitions`,
  );
  const work = await mkdtemp(join(tmpdir(), 'arcproxy-bench-'));
  try {
    console.log(report(await run(s, work), s.reps));
  } catch (err) {
    say(`kept ${work} for a look (the proxy logs to home/log/arcproxy.log there)`);
    throw err;
  }
  await rm(work, { recursive: true, force: true });
}

async function run(s: Settings, work: string): Promise<Results> {
  const w = await startWorld(s, work);
  say(
    `origins on ${w.origin.port} (1 KiB) and ${w.bulk.port} (bulk); Arc Proxy pid ${w.proxy.pid} on ${w.proxy.port}`,
  );
  await sleep(2000);
  const idleKiB = (await rssKiB(w.proxy.pid)) ?? NaN;
  await checkAllowList(w);
  await warmUp(w);
  const peak = watchPeak(w.proxy.pid);
  const samples: Record<Target, Sample[]> = { direct: [], arcproxy: [] };
  for (let rep = 1; rep <= s.reps; rep++) {
    for (const t of ['direct', 'arcproxy'] as const) {
      const m = await measure(t, w, s);
      samples[t].push(m);
      say(describe(t, rep, m));
    }
  }
  const peakKiB = peak.stop();
  say(`load done; watching the proxy's RSS for ${GOALS.settleSeconds} s`);
  const settling = await watchSettling(w.proxy.pid);
  say(await meterSummary(w));
  await stopService(w.proxy);
  const gateway = s.gateway ? await gatewaySection(s, work, w) : undefined;
  await Promise.all([w.origin, w.bulk].map((svc) => stopService(svc)));
  return { samples, idleKiB, peakKiB, settling, ...(gateway ? { gateway } : {}) };
}

function gatewaySection(s: Settings, work: string, w: World) {
  say('gateway route: a second Arc Proxy, connected to a local cloud through its Arc gateway');
  return measureGatewayRoute({
    work,
    cwd: ROOT,
    node: NODE_TS,
    proxyArgv: proxyArgv(s),
    originPort: w.origin.port,
    bulkPort: w.bulk.port,
    bulkMiB: s.bulkMiB,
    reps: s.reps,
    tunnelSeconds: s.tunnelSeconds,
    connections: CONNECTIONS,
    say,
  });
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}
main().catch((err: unknown) => {
  console.error(`bench:proxy: ${err instanceof Error ? err.message : String(err)}`);
  killAll();
  process.exit(1);
});
