// `npm run bench:himds`: HIMDS against a bare fastify app answering the same JSON, both on loopback
// in their own processes, measured in the same run with wrk at 50 connections; the report gives
// HIMDS as a ratio of the bare app (target: at least 0.7).
//
// Three loads, each run REPS times for bare and HIMDS back to back (which goes first alternates),
// both servers started anew and warmed up for each repetition; each ratio is the median of the
// repetitions' ratios:
//  (a) metadata: GET /metadata/instance/compute?api-version=2020-06-01 with `Metadata: true`.
//  (b) token flow: one operation is the documented two round trips, a GET without Authorization
//      (401, a new key file written by HIMDS, its path in Www-Authenticate), the key file read by the
//      client, and the same GET with `Authorization: Basic <contents>` (200, an upstream token from
//      HIMDS's cache: the protocol makes every request answer a fresh single-use challenge, so a
//      cached token still costs both trips). The bare app makes the same two trips: a static 401
//      whose realm names one fixed file, which the client reads the same way, then the token JSON.
//      Operations per second count 200s; p99 is per round trip, as wrk measures it.
//  (c) cached token request: the second trip alone, the request the issue's "cached token
//      requests" names. Before each run, CACHED_REQUESTS challenges are issued (a wrk run that
//      reads each realm file) and their secrets handed to the load, which sends each once with
//      `Authorization: Basic <secret>` (200 from the cache; HIMDS redeems the secret and retires
//      its file) until they are used up or DURATION has passed. The bare app gets the same number
//      of requests, each with its own random secret (it accepts any). The rate is 200s over the
//      time from the first request to the last answer, taken inside wrk (LuaJIT's ffi clock), as
//      wrk's own figure counts the whole DURATION even when the secrets ran out earlier.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWrk } from './loads.ts';
import { type Service, killAll, runBounded, sleep, startService, stopService } from './processes.ts';
import { fmt, median, renderTable, withRuns } from './table.ts';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const NODE_TS = [process.execPath, '--import', 'tsx'];
const CONNECTIONS = 50;
const TARGET = 0.7;
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;
const API = 'api-version=2020-06-01';
const COMPUTE = `/metadata/instance/compute?${API}`;
const TOKEN = `/metadata/identity/oauth2/token?${API}&resource=https%3A%2F%2Fvault.azure.net`;

const say = (text: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${text}`);

function settings(env: NodeJS.ProcessEnv) {
  const int = (name: string, fallback: number) => {
    const n = Number(env[name] || fallback);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`${name}=${env[name]}: expected a whole number from 1 up`);
    return n;
  };
  // TOKENS_DIR: where HIMDS writes challenges (default <work>/home/tokens, on the disk of /tmp);
  // e.g. a folder on tmpfs, to see the cost of the disk apart from the software's.
  return {
    seconds: int('DURATION', 10),
    reps: int('REPS', 3),
    warmup: int('WARMUP', 5),
    cachedRequests: int('CACHED_REQUESTS', 60_000),
    tokensDir: env['TOKENS_DIR'] || undefined,
  };
}

const metadataLua = `wrk.headers["Metadata"] = "true"\n`;

/** Every 401 queues the secret read from its realm file; the next request of the thread answers it. */
const tokenFlowLua = (path: string) => `
local threads = {}
function setup(thread) table.insert(threads, thread) end
-- Requests are formatted in init, not at load: wrk knows the Host header only from then on.
function init(args)
  queue = {}; ok = 0; challenged = 0; other = 0
  plain = wrk.format("GET", "${path}", { ["Metadata"] = "true" })
end
function request()
  local secret = table.remove(queue)
  if secret then
    return wrk.format("GET", "${path}", { ["Metadata"] = "true", ["Authorization"] = "Basic " .. secret })
  end
  return plain
end
function response(status, headers, body)
  if status == 200 then ok = ok + 1; return end
  if status ~= 401 then other = other + 1; return end
  challenged = challenged + 1
  local realm = headers["Www-Authenticate"] or headers["www-authenticate"] or ""
  local f = io.open(string.match(realm, "realm=(.+)$") or "", "r")
  if f then table.insert(queue, f:read("*a")); f:close() else other = other + 1 end
end
function done(summary, latency, requests)
  local o, c, x = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); c = c + t:get("challenged"); x = x + t:get("other") end
  io.write(string.format("flow ok=%d challenged=%d other=%d seconds=%f\\n", o, c, x, summary.duration / 1e6))
end
`;

/**
 * Ends the whole wrk run from its worker thread: thread:stop() only stops the thread, while wrk's
 * main thread sleeps out the duration; SIGINT to the main thread (its id is the process id) ends it.
 */
const endRunLua = `
local ffi = require("ffi")
ffi.cdef[[
int getpid(void);
int tgkill(int tgid, int tid, int sig);
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *tp);
]]
local function end_run() wrk.thread:stop(); local pid = ffi.C.getpid(); ffi.C.tgkill(pid, pid, 2) end
local ts = ffi.new("bench_timespec")
local function now() ffi.C.clock_gettime(1, ts); return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9 end
`;

/** Issues challenges until `count` secrets (the contents of each realm file) are written to `out`, one a line. */
const challengesLua = (path: string, out: string, count: number) => `${endRunLua}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  got = 0; other = 0; refusal = ""
  file = assert(io.open("${out}", "w"))
  plain = wrk.format("GET", "${path}", { ["Metadata"] = "true" })
end
function request() return plain end
function response(status, headers, body)
  if got >= ${count} then return end
  if status ~= 401 then other = other + 1; refusal = status .. " " .. body; end_run(); return end
  local realm = headers["Www-Authenticate"] or headers["www-authenticate"] or ""
  local f = io.open(string.match(realm, "realm=(.+)$") or "", "r")
  if not f then other = other + 1; return end
  file:write(f:read("*a"), "\\n"); f:close()
  got = got + 1
  if got >= ${count} then file:flush(); end_run() end
end
function done(summary, latency, requests)
  local t = threads[1]
  io.write(string.format("challenges got=%d other=%d %s\\n", t:get("got"), t:get("other"), t:get("refusal")))
end
`;

/**
 * Sends each secret in `secrets` once as \`Authorization: Basic <secret>\`. Stops with CONNECTIONS
 * secrets left, which cover the requests already under way, so that no request goes without one.
 */
const cachedLua = (path: string, secrets: string) => `${endRunLua}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  ok = 0; other = 0; first = 0; last = 0; queue = {}; stopped = false
  for line in io.lines("${secrets}") do
    if #line > 0 then
      table.insert(queue, wrk.format("GET", "${path}", { ["Metadata"] = "true", ["Authorization"] = "Basic " .. line }))
    end
  end
end
function request()
  if first == 0 then first = now() end
  if not stopped and #queue <= ${CONNECTIONS} then stopped = true; end_run() end
  return table.remove(queue)
end
function response(status, headers, body)
  if status == 200 then ok = ok + 1; last = now() else other = other + 1 end
end
function done(summary, latency, requests)
  local t = threads[1]
  io.write(string.format("cached ok=%d other=%d seconds=%f\\n", t:get("ok"), t:get("other"), t:get("last") - t:get("first")))
end
`;

interface Result {
  /** Requests per second (metadata) or operations per second (token flow). */
  rate: number;
  p99Ms: number;
  /** The server's CPU time (user + system) per request or operation, in microseconds. */
  cpuUs: number;
  note: string;
}

/** User + system CPU seconds of a process so far (/proc/PID/stat fields 14 and 15, in clock ticks). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Runs `load` and adds the server's CPU time per counted unit (request or operation). */
async function withCpu(
  svc: Service,
  load: () => Promise<Omit<Result, 'cpuUs'> & { count: number }>,
): Promise<Result> {
  const before = await cpuSeconds(svc.pid);
  const { count, ...r } = await load();
  const used = (await cpuSeconds(svc.pid)) - before;
  return { ...r, cpuUs: (used / count) * 1e6 };
}

async function wrk(url: string, script: string, seconds: number): Promise<{ out: string }> {
  const argv = ['wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', script, url];
  return { out: await runBounded(argv, (seconds + 20) * 1000) };
}

async function metadata(port: number, script: string, seconds: number) {
  const { out } = await wrk(`http://127.0.0.1:${port}${COMPUTE}`, script, seconds);
  const r = parseWrk(out);
  const count = Number(/^\s*(\d+) requests in/m.exec(out)?.[1] ?? NaN);
  return { rate: r.rps, p99Ms: r.p99Ms, note: r.problems, count };
}

async function tokenFlow(port: number, script: string, seconds: number) {
  const { out } = await wrk(`http://127.0.0.1:${port}`, script, seconds);
  const r = parseWrk(out);
  const m = /^flow ok=(\d+) challenged=(\d+) other=(\d+) seconds=([\d.]+)$/m.exec(out);
  if (!m) throw new Error(`token flow: no summary line in wrk's output:\n${out}`);
  const [ok, challenged, other, secs] = m.slice(1).map(Number) as [number, number, number, number];
  const note = other > 0 ? `${other} answers neither 200 nor 401` : '';
  if (ok === 0) throw new Error(`token flow: no 200 in ${challenged} challenges\n${out}`);
  return { rate: ok / secs, p99Ms: r.p99Ms, note, count: ok };
}

/** Secrets for one cached-token run: HIMDS's from `count` fresh challenges, the bare app's random. */
async function issueSecrets(svc: Service, work: string, count: number, seconds: number): Promise<string> {
  const secrets = join(work, `secrets-${svc.name}.txt`);
  if (svc.name === 'bare') {
    // Distinct secrets, like HIMDS's: wrk's LuaJIT keeps one copy of equal strings, so one secret
    // repeated would make the bare app's load lighter on the client's side than HIMDS's.
    const lines = Array.from({ length: count }, () => randomBytes(32).toString('hex'));
    await writeFile(secrets, `${lines.join('\n')}\n`);
    return secrets;
  }
  const script = join(work, 'challenges.lua');
  await writeFile(script, challengesLua(TOKEN, secrets, count));
  const { out } = await wrk(`http://127.0.0.1:${svc.port}`, script, Math.max(60, seconds));
  const m = /^challenges got=(\d+) other=(\d+) ?(.*)$/m.exec(out);
  if (!m || Number(m[1]) < count)
    throw new Error(`cached tokens: ${m?.[1] ?? 0} of ${count} challenges issued: ${m?.[3] ?? ''}\n${out}`);
  return secrets;
}

async function cachedTokens(port: number, script: string, seconds: number) {
  const { out } = await wrk(`http://127.0.0.1:${port}`, script, seconds);
  const r = parseWrk(out);
  if (process.env['BENCH_DEBUG']) console.error(out);
  const m = /^cached ok=(\d+) other=(\d+) seconds=([\d.]+)$/m.exec(out);
  if (!m) throw new Error(`cached tokens: no summary line in wrk's output:\n${out}`);
  const [ok, other, secs] = m.slice(1).map(Number) as [number, number, number];
  if (ok === 0) throw new Error(`cached tokens: no 200\n${out}`);
  const note = other > 0 ? `${other} cached-token answers not 200` : '';
  return { rate: ok / secs, p99Ms: r.p99Ms, note, count: ok };
}

async function prepare(work: string): Promise<void> {
  const home = join(work, 'home');
  await mkdir(home);
  const sub = '00000000-0000-0000-0000-000000000001';
  await writeFile(
    join(home, 'agentconfig.json'),
    JSON.stringify({
      resourceName: 'bench',
      resourceGroup: 'rg',
      subscriptionId: sub,
      tenantId: sub,
      location: 'westeurope',
      cloud: 'AzureCloud',
      resourceId: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/bench`,
      vmId: sub,
      status: 'Connected',
      certificateNotAfter: new Date(Date.now() + 86_400_000 * 30).toISOString(),
      tags: { env: 'bench' },
    }),
  );
}

/** HIMDS's own answers, which the bare app then serves as they are. */
async function captureBodies(port: number, work: string): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { headers: { Metadata: 'true', ...headers } });
  const compute = await get(COMPUTE);
  if (compute.status !== 200) throw new Error(`HIMDS metadata: ${compute.status} ${await compute.text()}`);
  const challenge = await get(TOKEN);
  const realm = /realm=(.+)$/.exec(challenge.headers.get('www-authenticate') ?? '')?.[1] ?? '';
  const token = await get(TOKEN, { Authorization: `Basic ${await readFile(realm, 'utf8')}` });
  if (token.status !== 200) throw new Error(`HIMDS token flow: ${token.status} ${await token.text()}`);
  await writeFile(join(work, 'compute.json'), await compute.text());
  await writeFile(join(work, 'token.json'), await token.text());
  await writeFile(join(work, 'bare.key'), 'f'.repeat(64));
}

function requireTools(): void {
  const missing = ['wrk', 'curl'].filter((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).error);
  if (missing.length === 0) return;
  console.error(`bench:himds: not installed: ${missing.join(', ')} (apt-get install ${missing.join(' ')})`);
  process.exit(1);
}

async function main(): Promise<void> {
  requireTools();
  const s = settings(process.env);
  const loadBefore = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  const work = await mkdtemp(join(tmpdir(), 'bench-himds-'));
  const services: Service[] = [];
  try {
    await prepare(work);
    // Room for the pre-issued challenges of the cached-token load (a run that ends before its secrets
    // are used up leaves the rest open), and time to issue them on a busy disk.
    process.env['BENCH_HIMDS_MAX_OUTSTANDING'] = String(s.cachedRequests * (s.reps + 2) + 4096);
    process.env['BENCH_HIMDS_CHALLENGE_TTL_MS'] = String(600_000);
    const start = (kind: 'himds' | 'bare') =>
      startService(
        kind,
        [
          ...NODE_TS,
          'bench/himds-server.ts',
          kind,
          work,
          ...(kind === 'himds' && s.tokensDir ? [s.tokensDir] : []),
        ],
        /^port (\d+)$/m,
        { cwd: ROOT },
      );
    // HIMDS answers first, so that the bare app can serve the very same bodies.
    const first = await start('himds');
    services.push(first);
    await captureBodies(first.port, work);
    const metaLua = join(work, 'metadata.lua');
    const flowLua = join(work, 'token-flow.lua');
    await writeFile(metaLua, metadataLua);
    await writeFile(flowLua, tokenFlowLua(TOKEN));

    /** One cached-token run: secrets issued first (not measured), then the load with them. */
    const cached = async (svc: Service, count: number, seconds: number) => {
      const secrets = await issueSecrets(svc, work, count, seconds);
      const script = join(work, `cached-${svc.name}.lua`);
      await writeFile(script, cachedLua(TOKEN, secrets));
      // Issuing created up to CACHED_REQUESTS key files for HIMDS (none for the bare app): their
      // writeback would otherwise run in the kernel during the load it precedes, on the same cores.
      spawnSync('sync');
      await sleep(500);
      return withCpu(svc, () => cachedTokens(svc.port, script, seconds));
    };

    const runs: Record<'bare' | 'himds', Record<LoadKey, Result[]>> = {
      bare: { meta: [], flow: [], cached: [] },
      himds: { meta: [], flow: [], cached: [] },
    };
    // Each load runs for both servers back to back, the first of the pair alternating from one
    // repetition to the next, so that each pair of runs meets the same machine (other tenants' load
    // here comes and goes over tens of seconds) and neither server always goes first.
    const loads: [LoadKey, string, (svc: Service) => Promise<Result>][] = [
      ['meta', 'metadata', (svc) => withCpu(svc, () => metadata(svc.port, metaLua, s.seconds))],
      ['flow', 'token flow', (svc) => withCpu(svc, () => tokenFlow(svc.port, flowLua, s.seconds))],
      ['cached', 'cached token', (svc) => cached(svc, s.cachedRequests, s.seconds)],
    ];
    for (let rep = 1; rep <= s.reps; rep++) {
      // Both servers start anew for each repetition: how fast a node process runs a hot path depends
      // on what its JIT made of the first calls (one HIMDS start here spent ~1% of its time in V8's
      // runtime building process.nextTick's objects, the next none), so one process for the whole
      // run would stand for one draw of that.
      // HIMDS removes its challenge files as it stops: tens of thousands of them, a few seconds.
      for (const svc of services.splice(0)) await stopService(svc, 60_000);
      const bare = await start('bare');
      services.push(bare);
      const himds = await start('himds');
      services.push(himds);
      say(`run ${rep}/${s.reps}: servers started; warming up (${s.warmup} s per load and server)`);
      for (const svc of [bare, himds]) {
        await metadata(svc.port, metaLua, s.warmup);
        await tokenFlow(svc.port, flowLua, s.warmup);
        await cached(svc, Math.min(s.cachedRequests, 5_000), s.warmup);
      }
      const pair = rep % 2 ? ([bare, himds] as const) : ([himds, bare] as const);
      for (const [key, label, run] of loads) {
        say(
          `run ${rep}/${s.reps}: ${label}, ${pair.map((svc) => svc.name).join(' then ')}, ${s.seconds} s each`,
        );
        for (const svc of pair) {
          runs[svc.name as 'bare' | 'himds'][key].push(await run(svc));
          await sleep(500);
        }
      }
    }
    console.log(report(runs, { ...s, loadBefore }));
  } finally {
    for (const svc of services) await stopService(svc);
    await rm(work, { recursive: true, force: true });
  }
}

type LoadKey = 'meta' | 'flow' | 'cached';

function report(
  runs: Record<'bare' | 'himds', Record<LoadKey, Result[]>>,
  s: {
    seconds: number;
    reps: number;
    loadBefore: string;
    tokensDir: string | undefined;
    cachedRequests: number;
  },
): string {
  const rows: string[][] = [];
  const cpuRows: string[][] = [];
  const verdicts: boolean[] = [];
  for (const [load, key, unit] of [
    ['metadata (GET /metadata/instance/compute)', 'meta', 'req/s'],
    ['token flow (401 + key file + 200, cached token)', 'flow', 'op/s'],
    ['cached token request (200 alone, secret issued before)', 'cached', 'req/s'],
  ] as const) {
    const b = runs.bare[key];
    const h = runs.himds[key];
    // The median of each repetition's ratio (its two runs were back to back). Latency as a ratio in
    // the same direction: bare p99 / HIMDS p99 (1.0 = as fast, 0.7 = 43% slower).
    const paired = (ratio: (bare: Result, himds: Result) => number) =>
      median(b.map((r, i) => ratio(r, h[i]!)));
    const rate = paired((br, hr) => hr.rate / br.rate);
    const latency = paired((br, hr) => br.p99Ms / hr.p99Ms);
    verdicts.push(rate >= TARGET, latency >= TARGET);
    rows.push([
      load,
      `${withRuns(b.map((r) => r.rate))} ${unit}`,
      `${withRuns(h.map((r) => r.rate))} ${unit}`,
      fmt(rate, 2),
      `${withRuns(
        b.map((r) => r.p99Ms),
        2,
      )} ms`,
      `${withRuns(
        h.map((r) => r.p99Ms),
        2,
      )} ms`,
      fmt(latency, 2),
    ]);
    const cpu = paired((br, hr) => br.cpuUs / hr.cpuUs);
    cpuRows.push([
      load,
      `${withRuns(b.map((r) => r.cpuUs))} us`,
      `${withRuns(h.map((r) => r.cpuUs))} us`,
      fmt(cpu, 2),
    ]);
  }
  const notes = (['bare', 'himds'] as const)
    .flatMap((name) => [...runs[name].meta, ...runs[name].flow, ...runs[name].cached])
    .map((r) => r.note)
    .filter((n) => n && !/Non-2xx/.test(n));
  return [
    '',
    `HIMDS vs a bare fastify route answering the same JSON: wrk -t1 -c${CONNECTIONS}, ${s.seconds} s per run,`,
    `${s.reps} runs each (median, then each run), each server in its own process, started anew for each`,
    'repetition; per load, bare and HIMDS back to back, which goes first alternating. A ratio is the',
    "median of the repetitions' ratios.",
    `HIMDS's challenge files: ${s.tokensDir ?? 'its home folder under the system temporary folder'}.`,
    'Token flow: one operation = GET without Authorization (401 + key file), client reads the file,',
    'GET with Authorization: Basic <contents> (200); HIMDS writes a fresh single-use key file per',
    'operation and serves the upstream token from its cache. The bare app makes the same two round trips',
    'with a static 401 naming one fixed file. p99 is per round trip.',
    `Cached token request: the second trip alone, with ${fmt(s.cachedRequests)} secrets issued before each run (not`,
    'measured), each sent once, until used up or the run time is over. Ratios: HIMDS rate / bare rate,',
    `and bare p99 / HIMDS p99, so that for both higher is better; target at least ${TARGET}.`,
    '',
    renderTable(
      ['load', 'bare rate', 'HIMDS rate', 'rate ratio', 'bare p99', 'HIMDS p99', 'p99 ratio'],
      rows,
    ),
    '',
    'Server CPU time (user + system, /proc) per request or operation; ratio bare / HIMDS. Less',
    'sensitive than rates to other load on the machine, which the load averages below show.',
    '',
    renderTable(['load', 'bare CPU', 'HIMDS CPU', 'CPU ratio'], cpuRows),
    '',
    `machine: ${cpus().length} CPUs, load average ${s.loadBefore} before, ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} after`,
    notes.length
      ? `problems: ${notes.join('; ')}`
      : 'problems: none (every answer was the expected 200 or 401)',
    verdicts.every(Boolean) ? `all ratios at or above ${TARGET}` : `SOME RATIOS BELOW ${TARGET}`,
  ].join('\n');
}

process.on('exit', killAll);
main().catch((err: unknown) => {
  console.error(`bench:himds: ${(err as Error).message}`);
  killAll();
  process.exit(1);
});
