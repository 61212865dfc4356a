// Destinations as the gateway sees them, and the patterns of its endpoint list. The cloud shares only
// certs/ and core/ with the agent (ARCHITECTURE.md), so this is the cloud's own small parser, with the
// pattern semantics of the Azure endpoint tables: `*.domain` matches any name below the domain (not
// the domain itself), a pattern without a port means 443, and a `*` inside one label (as in
// `azgn*.servicebus.windows.net`) stands for any letters, digits and hyphens.
import { isIP } from 'node:net';

export interface Target {
  /** Lower case, no trailing dot, IPv6 without brackets. */
  host: string;
  port: number;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,62})$/;

const validHost = (host: string): boolean =>
  isIP(host) !== 0 || (host.length <= 253 && host.split('.').every((l) => LABEL.test(l)));

/** `host:port` or `[v6]:port` (the authority-form of CONNECT, RFC 9110 section 9.3.6); undefined otherwise. */
export function parseAuthority(authority: string, defaultPort?: number): Target | undefined {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/i.exec(authority);
  if (!m) return undefined;
  let host = (m[1] ?? m[2] ?? '').toLowerCase();
  if (m[1] !== undefined && isIP(host) !== 6) return undefined;
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (!host || !validHost(host)) return undefined;
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (port === undefined || port < 1 || port > 65535) return undefined;
  return { host, port };
}

export const formatTarget = ({ host, port }: Target): string =>
  isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;

const DEFAULT_PORT = 443;

interface Pattern {
  /** Matches the host. */
  host: (host: string) => boolean;
  port: number;
  /** One of the forms the agent matches too: host, host:port, *.domain, *.domain:port. */
  plain: boolean;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');

/** One pattern, or undefined if it is not one of the forms above. */
export function parsePattern(text: string): Pattern | undefined {
  const wildcard = text.startsWith('*.');
  const rest = wildcard ? text.slice(2) : text;
  if (!rest.includes('*')) {
    const t = parseAuthority(rest, DEFAULT_PORT);
    if (!t || (wildcard && isIP(t.host) !== 0)) return undefined;
    const suffix = `.${t.host}`;
    return {
      host: wildcard ? (h) => h.endsWith(suffix) : (h) => h === t.host,
      port: t.port,
      plain: true,
    };
  }
  // A `*` inside labels: checked with the wildcard replaced by a letter, then compiled.
  const t = parseAuthority(rest.replaceAll('*', 'x'), DEFAULT_PORT);
  if (!t || isIP(t.host) !== 0) return undefined;
  const name = rest.replace(/:\d+$/, '').toLowerCase();
  const body = name
    .split('.')
    .map((label) => label.split('*').map(escape).join('[a-z0-9-]*'))
    .join('\\.');
  const regex = new RegExp(`^${wildcard ? '(?:[a-z0-9_-]+\\.)+' : ''}${body}$`);
  return { host: (h) => regex.test(h), port: t.port, plain: false };
}

/** Whether a set of patterns covers a destination. */
export interface TargetSet {
  serves(target: Target): boolean;
}

/** Patterns as a matcher; malformed ones are returned, not dropped silently. */
export function compileTargets(patterns: readonly string[]): { set: TargetSet; invalid: string[] } {
  const invalid: string[] = [];
  const compiled: Pattern[] = [];
  for (const text of patterns) {
    const p = parsePattern(text);
    if (p) compiled.push(p);
    else invalid.push(text);
  }
  // A linear scan of about 200 patterns per CONNECT: far below the cost of the TLS handshake before it.
  return { set: { serves: (t) => compiled.some((p) => p.port === t.port && p.host(t.host)) }, invalid };
}
