// The endpoint allow-list: the cloud's documented endpoints (port 443, or the port they name) plus the
// user's `arcproxy.allowlist` patterns. `*.domain` matches any name below the domain, not the domain
// itself (the semantics of the Azure endpoint tables); a pattern without a port matches any port.
import type { CloudEndpoint } from '../core/index.ts';
import { type Target, parseAuthority } from './target.ts';

/** The port of a pattern that names none: it matches any port. */
export const ANY_PORT = 0;

export interface AllowList {
  allows(target: Target): boolean;
}

export interface EndpointPattern {
  /** Lower-case host, or the domain below which a wildcard matches. */
  host: string;
  wildcard: boolean;
  port: number;
}

/** `host`, `host:port`, `*.domain`, `*.domain:port`, IPv4, `[IPv6]` or `[IPv6]:port`; undefined if malformed. */
export function parseEndpointPattern(pattern: string): EndpointPattern | undefined {
  const wildcard = pattern.startsWith('*.');
  const rest = wildcard ? pattern.slice(2) : pattern;
  // A bare IPv6 literal has colons but no brackets: it carries no port.
  const bareV6 = !rest.startsWith('[') && rest.indexOf(':') !== rest.lastIndexOf(':');
  const target = parseAuthority(bareV6 ? `[${rest}]` : rest, ANY_PORT);
  if (!target || (wildcard && target.host.includes(':'))) return undefined;
  return { host: target.host, wildcard, port: target.port };
}

/** A matcher over host patterns: exact names in one map, wildcard domains in another, looked up label by label. */
export class HostPatternSet implements AllowList {
  private readonly exact = new Map<string, Set<number>>();
  private readonly below = new Map<string, Set<number>>();

  constructor(patterns: Iterable<EndpointPattern>) {
    for (const p of patterns) {
      const map = p.wildcard ? this.below : this.exact;
      const ports = map.get(p.host) ?? new Set<number>();
      ports.add(p.port);
      map.set(p.host, ports);
    }
  }

  get size(): number {
    return this.exact.size + this.below.size;
  }

  allows({ host, port }: Target): boolean {
    if (portMatches(this.exact.get(host), port)) return true;
    if (this.below.size === 0) return false;
    for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
      if (portMatches(this.below.get(host.slice(dot + 1)), port)) return true;
    }
    return false;
  }
}

const portMatches = (ports: Set<number> | undefined, port: number): boolean =>
  ports !== undefined && (ports.has(port) || ports.has(ANY_PORT));

export function endpointPatterns(endpoints: readonly CloudEndpoint[]): EndpointPattern[] {
  return endpoints.map((e) => {
    const wildcard = e.host.startsWith('*.');
    return { host: (wildcard ? e.host.slice(2) : e.host).toLowerCase(), wildcard, port: e.port };
  });
}

/** The built-in set of the cloud plus the user's patterns; malformed user patterns are reported, not ignored. */
export function compileAllowList(
  cloudEndpoints: readonly CloudEndpoint[],
  userPatterns: readonly string[],
): { allowList: HostPatternSet; invalid: string[] } {
  const invalid: string[] = [];
  const user: EndpointPattern[] = [];
  for (const text of userPatterns) {
    const p = parseEndpointPattern(text);
    if (p) user.push(p);
    else invalid.push(text);
  }
  return { allowList: new HostPatternSet([...endpointPatterns(cloudEndpoints), ...user]), invalid };
}
