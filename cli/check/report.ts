// What `azcmagent check` prints: a stable JSON document (-j, documented in docs/cli.md) and the text
// layout, a header with the connection in effect, a table, then each failure with its fix.
import { printTable } from '../output.ts';
import type { CheckReport } from './run.ts';
import type { EndpointResult, StepName } from './probe.ts';

const TIMED: readonly Exclude<StepName, 'route'>[] = ['dns', 'connect', 'tls', 'http'];

/** The JSON document: every key always present (null when it does not apply), so scripts can rely on it. */
export function reportJson(report: CheckReport) {
  return {
    cloud: report.cloud,
    location: report.location ?? null,
    connectionType: report.connection.effective,
    connectionTypeSetting: report.connection.setting,
    gatewayUrl: report.connection.gatewayUrl ?? null,
    proxyBypassIgnored: report.connection.proxyBypassIgnored,
    proxy: report.proxy ?? null,
    allowListMode: report.allowListMode,
    passed: report.passed,
    summary: summaryOf(report.endpoints),
    endpoints: report.endpoints.map((e) => ({
      url: e.url,
      host: e.host,
      port: e.port,
      purpose: e.purpose,
      required: e.required,
      extension: e.extension ?? null,
      status: e.status,
      reachable: e.reachable,
      route: e.route ?? null,
      proxy: e.proxy ?? null,
      dns: e.dns ?? null,
      tls: e.tls ?? null,
      httpStatus: e.httpStatus ?? null,
      latencyMs: e.latencyMs ?? null,
      timingsMs: Object.fromEntries(TIMED.map((s) => [s, e.timingsMs[s] ?? null])),
      cause: e.cause ?? null,
      error: e.error ?? null,
      notes: e.notes,
    })),
    checks: report.checks.map((c) => ({
      name: c.name,
      status: c.status,
      message: c.message,
      action: c.action ?? null,
      ...c.data,
    })),
    notes: report.notes,
  };
}

function summaryOf(endpoints: readonly EndpointResult[]) {
  const count = (f: (e: EndpointResult) => boolean) => endpoints.filter(f).length;
  return {
    total: endpoints.length,
    reachable: count((e) => e.reachable),
    passed: count((e) => e.status === 'passed'),
    failedRequired: count((e) => e.status === 'failed' && e.required),
    failedOptional: count((e) => e.status === 'failed' && !e.required),
    skipped: count((e) => e.status === 'skipped'),
  };
}

export function printReport(report: CheckReport): void {
  const out = process.stdout;
  const c = report.connection;
  const how =
    c.effective === 'gateway'
      ? `gateway ${c.gatewayUrl ?? ''} (connection.type ${c.setting})`
      : c.setting === 'direct'
        ? 'direct (connection.type direct)'
        : `direct (connection.type ${c.setting}; no Arc gateway is associated with this machine)`;
  out.write(
    [
      `Cloud: ${report.cloud}${report.location ? ` (location ${report.location})` : ' (no location)'}`,
      `Connection type: ${how}`,
      ...report.notes.map((note) => `NOTE ${note}`),
      `Enterprise proxy: ${report.proxy ?? 'none'}`,
      `Allow-list: ${report.allowListMode}`,
      '',
      '',
    ].join('\n'),
  );
  printTable(
    ['ENDPOINT', 'REACHABLE', 'ROUTE', 'PROXY', 'PRIVATE', 'TLS', 'LATENCY', 'CAUSE'],
    report.endpoints.map((e) => [
      e.required ? e.url : `${e.url} (optional)`,
      e.status === 'skipped' ? 'skipped' : String(e.reachable),
      e.route ?? '-',
      e.proxy ?? '-',
      e.dns ? String(e.dns.private) : '-',
      e.tls ? e.tls.version.replace(/^TLSv/, 'TLS ') : '-',
      e.latencyMs === undefined ? '-' : `${e.latencyMs} ms`,
      e.cause ?? (e.status === 'passed' ? '' : '-'),
    ]),
  );
  const failed = report.endpoints.filter((e) => e.status === 'failed');
  const lines: string[] = [];
  for (const e of failed) {
    lines.push(`${e.required ? 'FAILED' : 'WARNING (optional)'} ${e.url}: ${e.cause} (${e.error?.code})`);
    lines.push(`  ${e.error?.message}`, `  To fix: ${e.error?.action}`);
  }
  for (const e of report.endpoints.filter((e) => e.notes.length > 0))
    for (const note of e.notes) lines.push(`NOTE ${e.url}: ${note}`);
  for (const check of report.checks.filter((c) => c.status === 'warning')) {
    lines.push(`WARNING ${check.name}: ${check.message}`);
    if (check.action) lines.push(`  To fix: ${check.action}`);
  }
  const s = summaryOf(report.endpoints);
  lines.push(
    `${s.reachable} of ${s.total - s.skipped} endpoints reachable` +
      (s.failedRequired ? `; ${s.failedRequired} required failed` : '') +
      (s.failedOptional ? `; ${s.failedOptional} optional failed` : '') +
      (s.skipped ? `; ${s.skipped} skipped` : ''),
  );
  out.write(`\n${lines.join('\n')}\n`);
}
