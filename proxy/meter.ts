// The traffic meter. It observes, it does not sit in the pipe: tunnel.ts and forward.ts publish one
// event per finished tunnel or request on a diagnostics channel (byte counts read off the sockets at
// close), and the meter adds them up per (client, destination, route). Totals persist under <home>/meter/.
import diagnosticsChannel from 'node:diagnostics_channel';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic, type ErrorCode } from '../core/index.ts';

export const TRAFFIC_CHANNEL = 'azcmagent:arcproxy:traffic';
export const trafficChannel = diagnosticsChannel.channel(TRAFFIC_CHANNEL);

export type MeterRoute = 'direct' | 'upstream' | 'gateway' | 'deny' | 'none';

/** One finished tunnel or forwarded request, or one refusal. */
export interface TrafficEvent {
  client: string;
  /** host:port, or '-' when the request never named a valid destination. */
  destination: string;
  route: MeterRoute;
  kind: 'tunnel' | 'request' | 'refusal';
  /** Payload bytes from the client to the destination (tunnel bytes, or request body bytes). */
  sent: number;
  /** Payload bytes from the destination to the client. */
  received: number;
  denied: boolean;
  wouldDeny: boolean;
  code: ErrorCode | undefined;
}

export interface MeterEntry {
  client: string;
  destination: string;
  route: MeterRoute;
  bytesSent: number;
  bytesReceived: number;
  tunnels: number;
  requests: number;
  denied: number;
  wouldDeny: number;
  errors: Record<string, number>;
  firstSeen: string;
  lastSeen: string;
}

/** Payload an open tunnel has carried so far. */
export interface InFlight {
  client: string;
  destination: string;
  route: MeterRoute;
  sent: number;
  received: number;
}

export interface MeterSnapshot {
  since: string;
  entries: MeterEntry[];
}

export function publishTraffic(event: TrafficEvent): void {
  if (trafficChannel.hasSubscribers) trafficChannel.publish(event);
}

/** A refusal: counted under its code, as denied when the allow-list refused it. */
export function publishRefusal(
  code: ErrorCode,
  where: { client?: string; destination?: string; route?: MeterRoute; wouldDeny?: boolean } = {},
): void {
  publishTraffic({
    client: where.client ?? 'anonymous',
    destination: where.destination ?? '-',
    route: where.route ?? 'none',
    kind: 'refusal',
    sent: 0,
    received: 0,
    denied: code === 'ARCPROXY_DENIED',
    wouldDeny: where.wouldDeny ?? false,
    code,
  });
}

/** An entry as kept in memory: times as epoch milliseconds, formatted only when a snapshot is taken. */
type LiveEntry = Omit<MeterEntry, 'firstSeen' | 'lastSeen'> & { firstSeen: number; lastSeen: number };

type Where = Pick<MeterEntry, 'client' | 'destination' | 'route'>;

const entryKey = ({ client, destination, route }: Where): string =>
  `${client}\u0000${destination}\u0000${route}`;

const blankEntry = ({ client, destination, route }: Where, at: number): LiveEntry => ({
  client,
  destination,
  route,
  bytesSent: 0,
  bytesReceived: 0,
  tunnels: 0,
  requests: 0,
  denied: 0,
  wouldDeny: 0,
  errors: {},
  firstSeen: at,
  lastSeen: at,
});

export class Meter {
  private readonly entries = new Map<string, LiveEntry>();
  private since: number;
  private dirty = false;
  private readonly onEvent = (message: unknown) => this.record(message as TrafficEvent);

  /** `now` gives epoch milliseconds: recording runs once per request, so it formats no dates. */
  constructor(private readonly now: () => number = Date.now) {
    this.since = now();
  }

  /** Starts counting what the proxy publishes. */
  subscribe(): void {
    diagnosticsChannel.subscribe(TRAFFIC_CHANNEL, this.onEvent);
  }

  unsubscribe(): void {
    diagnosticsChannel.unsubscribe(TRAFFIC_CHANNEL, this.onEvent);
  }

  record(e: TrafficEvent): void {
    const key = entryKey(e);
    const at = this.now();
    let entry = this.entries.get(key);
    if (!entry) {
      entry = blankEntry(e, at);
      this.entries.set(key, entry);
    }
    entry.bytesSent += e.sent;
    entry.bytesReceived += e.received;
    if (e.kind === 'tunnel') entry.tunnels++;
    else if (e.kind === 'request') entry.requests++;
    if (e.denied) entry.denied++;
    if (e.wouldDeny) entry.wouldDeny++;
    if (e.code) entry.errors[e.code] = (entry.errors[e.code] ?? 0) + 1;
    entry.lastSeen = at;
    this.dirty = true;
  }

  /**
   * The totals, largest first. `open` adds what open tunnels carried so far (they are recorded when
   * they close), so a live view shows long-lived tunnels too; each counts as one tunnel.
   */
  snapshot(open: readonly InFlight[] = []): MeterSnapshot {
    const iso = (ms: number) => new Date(ms).toISOString();
    const live = new Map<string, LiveEntry>();
    for (const [key, e] of this.entries) live.set(key, { ...e, errors: { ...e.errors } });
    const now = this.now();
    for (const t of open) {
      const key = entryKey(t);
      const e = live.get(key) ?? blankEntry(t, now);
      e.bytesSent += t.sent;
      e.bytesReceived += t.received;
      e.tunnels++;
      live.set(key, e);
    }
    const entries = [...live.values()].map((e) => ({
      ...e,
      firstSeen: iso(e.firstSeen),
      lastSeen: iso(e.lastSeen),
    }));
    entries.sort((a, b) => b.bytesSent + b.bytesReceived - (a.bytesSent + a.bytesReceived));
    return { since: iso(this.since), entries };
  }

  /** Adds persisted totals (from a previous run) to what this run counts. */
  restore(snapshot: MeterSnapshot): void {
    this.since = Date.parse(snapshot.since) || this.since;
    for (const e of snapshot.entries) {
      this.entries.set(entryKey(e), {
        ...e,
        errors: { ...e.errors },
        firstSeen: Date.parse(e.firstSeen),
        lastSeen: Date.parse(e.lastSeen),
      });
    }
  }

  async load(path: string): Promise<void> {
    const snapshot = await readMeterFile(path);
    if (snapshot) this.restore(snapshot);
  }

  /** Writes the totals if anything changed since the last save. */
  /** True when something was counted since the last save. */
  get changed(): boolean {
    return this.dirty;
  }

  async save(path: string): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    try {
      await writeFileAtomic(path, JSON.stringify(this.snapshot()), 0o640);
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }
}

export async function readMeterFile(path: string): Promise<MeterSnapshot | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as MeterSnapshot;
  return Array.isArray(parsed.entries) ? parsed : undefined;
}

/** Destinations that were refused or would have been, with counts and the clients that tried. */
export function deniedDestinations(snapshot: MeterSnapshot) {
  const byDest = new Map<
    string,
    { destination: string; denied: number; wouldDeny: number; clients: string[]; lastSeen: string }
  >();
  for (const e of snapshot.entries) {
    if (e.denied === 0 && e.wouldDeny === 0) continue;
    const d = byDest.get(e.destination) ?? {
      destination: e.destination,
      denied: 0,
      wouldDeny: 0,
      clients: [],
      lastSeen: e.lastSeen,
    };
    d.denied += e.denied;
    d.wouldDeny += e.wouldDeny;
    if (!d.clients.includes(e.client)) d.clients.push(e.client);
    if (e.lastSeen > d.lastSeen) d.lastSeen = e.lastSeen;
    byDest.set(e.destination, d);
  }
  return [...byDest.values()].sort((a, b) => b.denied + b.wouldDeny - (a.denied + a.wouldDeny));
}

const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Prometheus text exposition (format 0.0.4) of the totals, plus live gauges. */
export function toPrometheus(snapshot: MeterSnapshot, gauges: Record<string, number>): string {
  const lines: string[] = [];
  const counter = (name: string, help: string, pick: (e: MeterEntry) => number) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
    for (const e of snapshot.entries) {
      lines.push(
        `${name}{client="${label(e.client)}",destination="${label(e.destination)}",route="${e.route}"} ${pick(e)}`,
      );
    }
  };
  counter('arcproxy_sent_bytes_total', 'Payload bytes from clients to destinations.', (e) => e.bytesSent);
  counter(
    'arcproxy_received_bytes_total',
    'Payload bytes from destinations to clients.',
    (e) => e.bytesReceived,
  );
  counter('arcproxy_tunnels_total', 'CONNECT tunnels that were opened.', (e) => e.tunnels);
  counter('arcproxy_requests_total', 'Absolute-form HTTP requests that were forwarded.', (e) => e.requests);
  counter('arcproxy_denied_total', 'Connections refused by the allow-list (enforce).', (e) => e.denied);
  counter(
    'arcproxy_would_deny_total',
    'Connections outside the allow-list let through (audit).',
    (e) => e.wouldDeny,
  );
  lines.push(
    '# HELP arcproxy_errors_total Failures by stable error code.',
    '# TYPE arcproxy_errors_total counter',
  );
  for (const e of snapshot.entries) {
    for (const [code, n] of Object.entries(e.errors)) {
      lines.push(
        `arcproxy_errors_total{client="${label(e.client)}",destination="${label(e.destination)}",route="${e.route}",code="${code}"} ${n}`,
      );
    }
  }
  for (const [name, value] of Object.entries(gauges)) lines.push(`# TYPE ${name} gauge`, `${name} ${value}`);
  return `${lines.join('\n')}\n`;
}
