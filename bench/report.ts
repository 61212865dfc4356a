// The benchmark's report: per-repetition samples of direct and the Arc Proxy become one table of
// medians, ratios to direct and the issue's targets, with any failed requests called out under it.
import type { GatewayResults, RouteName, RouteSample } from './gateway.ts';
import type { SmallResult, TunnelRateResult } from './loads.ts';
import { fmt, median, renderTable, withRuns } from './table.ts';

/** The issue's targets: ratios to direct, RSS in MiB, and the seconds RSS may take to settle after load. */
export const GOALS = {
  small: 0.35,
  bulk: 0.45,
  tunnels: 0.5,
  idleMiB: 50,
  settledMiB: 80,
  settleSeconds: 30,
};
/** squid 5.7 in ../shared/reference/proxy-peers-perf.md (another run; proxy-bench.sh measures it here). */
export const SQUID_P99_MS_IN_PEERS_DOC = 17.9;

export type Target = 'direct' | 'arcproxy';

export interface Sample {
  small: SmallResult;
  bulkMBps: number;
  tunnels: TunnelRateResult;
}

export interface Settling {
  afterKiB: number;
  finalKiB: number;
  /** Seconds after the load until RSS was first under the goal; undefined if it never was. */
  underAfterS: number | undefined;
}

export interface Results {
  samples: Record<Target, Sample[]>;
  idleKiB: number;
  peakKiB: number;
  settling: Settling;
  gateway?: GatewayResults;
}

const mib = (kib: number) => kib / 1024;
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

interface Goal {
  text: string;
  met?: (ratio: number) => boolean;
}

const atLeast = (ratio: number): Goal => ({
  text: `>= ${ratio.toFixed(2)} x direct`,
  met: (r) => r >= ratio,
});

/** Rows measured for both targets: direct and Arc Proxy medians with their runs, and the ratio. */
function loadRows(samples: Results['samples']): string[][] {
  const row = (metric: string, pick: (m: Sample) => number, digits: number, goal?: Goal) => {
    const ratio = median(samples.arcproxy.map((m, i) => pick(m) / pick(samples.direct[i]!)));
    const met = goal?.met ? verdict(goal.met(ratio)) : goal ? 'not measured here' : '';
    const runs = (t: Target) => withRuns(samples[t].map(pick), digits);
    return [metric, runs('direct'), runs('arcproxy'), ratio.toFixed(2), goal?.text ?? '', met];
  };
  const squid = { text: `no worse than squid's (peers doc: ${SQUID_P99_MS_IN_PEERS_DOC} ms)` };
  return [
    row('small requests, req/s', (m) => m.small.rps, 0, atLeast(GOALS.small)),
    row('small requests, p50 ms', (m) => m.small.p50Ms, 2),
    row('small requests, p99 ms', (m) => m.small.p99Ms, 2, squid),
    row('bulk CONNECT tunnel, MB/s', (m) => m.bulkMBps, 0, atLeast(GOALS.bulk)),
    row('new tunnels/s', (m) => m.tunnels.rate, 0, atLeast(GOALS.tunnels)),
    row('new tunnel p50 ms', (m) => m.tunnels.p50, 1),
    row('new tunnel p99 ms', (m) => m.tunnels.p99, 1),
  ];
}

/** Rows for the proxy process alone: RSS idle, under load and after it. */
function rssRows(r: Results): string[][] {
  const { settling } = r;
  const idleOk = mib(r.idleKiB) <= GOALS.idleMiB;
  const settledOk = settling.underAfterS !== undefined && mib(settling.finalKiB) < GOALS.settledMiB;
  const when =
    settling.underAfterS === undefined ? 'never under' : `under after ${settling.underAfterS.toFixed(1)} s`;
  const only = (metric: string, kib: number, goal = '', met = '') => [
    metric,
    '',
    fmt(mib(kib), 1),
    '',
    goal,
    met,
  ];
  return [
    only('RSS idle, 2 s after start, MiB', r.idleKiB, `<= ${GOALS.idleMiB} MiB`, verdict(idleOk)),
    only('RSS peak during load, MiB', r.peakKiB),
    only('RSS right after load, MiB', settling.afterKiB),
    only(
      `RSS ${GOALS.settleSeconds} s after load, MiB`,
      settling.finalKiB,
      `< ${GOALS.settledMiB} MiB within ${GOALS.settleSeconds} s`,
      `${verdict(settledOk)} (${when})`,
    ),
  ];
}

/** Failed requests or tunnels make a rate meaningless, so the report says so under the table. */
function failures(samples: Results['samples']): string {
  const lines: string[] = [];
  for (const t of ['direct', 'arcproxy'] as const) {
    samples[t].forEach((m, i) => {
      if (m.small.problems) lines.push(`${t} rep ${i + 1}, small requests: ${m.small.problems}`);
      if (m.tunnels.err > 0) lines.push(`${t} rep ${i + 1}, new tunnels: ${m.tunnels.err} failed`);
    });
  }
  return lines.length ? `WARNING, failures during the run:\n${lines.join('\n')}\n` : '';
}

/** The gateway route against the direct route of the same Arc Proxy (the issue names no target). */
function gatewayTable(g: GatewayResults): string {
  const row = (metric: string, pick: (m: RouteSample) => number, digits: number) => {
    const ratio = median(g.gateway.map((m, i) => pick(m) / pick(g.direct[i]!)));
    const runs = (route: RouteName) => withRuns(g[route].map(pick), digits);
    return [metric, runs('direct'), runs('gateway'), ratio.toFixed(2)];
  };
  const failed = (['direct', 'gateway'] as const).flatMap((route) =>
    g[route].flatMap((m, i) =>
      m.tunnels.err > 0 ? [`${route} route rep ${i + 1}, new tunnels: ${m.tunnels.err} failed`] : [],
    ),
  );
  const table = renderTable(
    ['metric (one Arc Proxy)', 'direct route', 'gateway route', 'ratio'],
    [
      row('bulk CONNECT tunnel, MB/s', (m) => m.bulkMBps, 0),
      row('new tunnels/s', (m) => m.tunnels.rate, 0),
      row('new tunnel p50 ms', (m) => m.tunnels.p50, 1),
      row('new tunnel p99 ms', (m) => m.tunnels.p99, 1),
    ],
  );
  return `${table}\n${failed.length ? `WARNING, failures during the run:\n${failed.join('\n')}\n` : ''}`;
}

export function report(r: Results, reps: number): string {
  const header = ['metric', 'direct', 'Arc Proxy', 'ratio', 'target', 'verdict'];
  const note =
    `median of ${reps} repetitions (runs in brackets); ratio = median of per-repetition Arc Proxy / direct ` +
    '(for latencies, lower is better); RSS = VmRSS of the proxy process.';
  const main = `${renderTable(header, [...loadRows(r.samples), ...rssRows(r)])}\n${note}\n${failures(r.samples)}`;
  return r.gateway ? `${main}\n${gatewayTable(r.gateway)}` : main;
}
