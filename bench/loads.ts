// The three loads of the proxy benchmark, each time-bounded and the same as proxy-bench.sh's: wrk for
// small forwarded requests, curl through a CONNECT tunnel for bulk, tunnel-rate.ts for new tunnels.
import { runBounded } from './processes.ts';

export interface SmallResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** wrk's "Non-2xx or 3xx responses" and "Socket errors" lines, empty when there were none. */
  problems: string;
}

const UNIT_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3 };

function latencyMs(wrkOutput: string, percentile: string): number {
  const m = new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(wrkOutput);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
}

export function parseWrk(output: string): SmallResult {
  const problems = [/Non-2xx or 3xx responses: .*/.exec(output)?.[0], /Socket errors: .*/.exec(output)?.[0]]
    .filter(Boolean)
    .join('; ');
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? NaN),
    p50Ms: latencyMs(output, '50'),
    p99Ms: latencyMs(output, '99'),
    problems,
  };
}

/** `wrk -t1 -cCONNS -dSECS --latency`, at the URL, or through `luaScript` (absolute-form requests to a proxy). */
export async function runWrk(opts: {
  url: string;
  luaScript?: string;
  seconds: number;
  connections: number;
}): Promise<SmallResult> {
  const script = opts.luaScript ? ['-s', opts.luaScript] : [];
  const argv = [
    'wrk',
    '-t1',
    `-c${opts.connections}`,
    `-d${opts.seconds}s`,
    '--latency',
    ...script,
    opts.url,
  ];
  return parseWrk(await runBounded(argv, (opts.seconds + 15) * 1000));
}

/** The wrk script that turns every request into `GET http://127.0.0.1:ORIGIN/` for a proxy. */
export const absoluteUriScript = (originPort: number): string =>
  `wrk.path = "http://127.0.0.1:${originPort}/"\nwrk.headers["Host"] = "127.0.0.1:${originPort}"\n`;

/** MB/s (10^6 bytes) of one curl download of the bulk body, directly or HTTP-inside-CONNECT through the proxy. */
export async function runBulk(opts: {
  bulkPort: number;
  /** The origin's name in the URL: 127.0.0.1 unless given. */
  host?: string;
  proxyPort?: number;
  expectBytes: number;
}): Promise<number> {
  const proxy = opts.proxyPort ? ['-p', '-x', `http://127.0.0.1:${opts.proxyPort}`] : [];
  const out = await runBounded(
    [
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '--max-time',
      '120',
      '-w',
      '%{speed_download} %{size_download} %{http_code}',
      ...proxy,
      `http://${opts.host ?? '127.0.0.1'}:${opts.bulkPort}/bulk`,
    ],
    130_000,
  );
  const [speed = NaN, size = NaN, status = NaN] = out.trim().split(/\s+/).map(Number);
  if (status !== 200 || size !== opts.expectBytes) {
    throw new Error(`bulk download: HTTP ${status}, ${size} of ${opts.expectBytes} bytes`);
  }
  return speed / 1e6;
}

export interface TunnelRateResult {
  ok: number;
  err: number;
  rate: number;
  p50: number;
  p99: number;
}

/** New tunnels per second from tunnel-rate.ts in its own process; proxy port 0 measures the direct baseline. */
export async function runTunnelRate(opts: {
  node: readonly string[];
  proxyPort: number;
  originPort: number;
  /** The origin's name in CONNECT: 127.0.0.1 unless given. */
  host?: string;
  connections: number;
  seconds: number;
  cwd: string;
}): Promise<TunnelRateResult> {
  const argv = [
    ...opts.node,
    'bench/tunnel-rate.ts',
    String(opts.proxyPort),
    String(opts.originPort),
    String(opts.connections),
    String(opts.seconds),
    ...(opts.host ? [opts.host] : []),
  ];
  const out = await runBounded(argv, (opts.seconds + 20) * 1000, opts.cwd);
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as TunnelRateResult;
}
