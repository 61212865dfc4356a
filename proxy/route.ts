// The routing decision, a pure function: for one destination and client, deny, or go direct, through
// the enterprise proxy, or (a later issue) through the Arc gateway. I/O lives in tunnel.ts and forward.ts.
import { type CloudProfile, type LocalConfig, redactUrl } from '../core/index.ts';
import { type AllowList, HostPatternSet, compileAllowList, endpointPatterns } from './allow-list.ts';
import { type Target, formatTarget, isLoopbackHost } from './target.ts';

export interface UpstreamProxy {
  url: URL;
  /** `Basic ...` from the credentials in the URL; never logged. */
  authorization: string | undefined;
  /** The URL with credentials removed, for logs and output. */
  display: string;
}

export type Route =
  { kind: 'direct' } | { kind: 'upstream'; proxy: UpstreamProxy } | { kind: 'gateway'; url: URL };

export type RouteKind = Route['kind'];

export type Decision =
  { kind: 'deny'; reason: string; allowCommand: string } | (Route & { wouldDeny: boolean });

export interface RoutePolicy {
  mode: 'audit' | 'enforce';
  allowList: AllowList;
  /** The enterprise proxy, if any. */
  upstream: UpstreamProxy | undefined;
  /** Cloud endpoints whose `proxy.bypass` category sends them direct. */
  bypass: AllowList;
}

export function decideRoute(target: Target, client: string, policy: RoutePolicy): Decision {
  const allowed = policy.allowList.allows(target);
  if (!allowed && policy.mode === 'enforce') {
    const dest = formatTarget(target);
    return {
      kind: 'deny',
      reason: `${dest} is not in the endpoint allow-list (client ${client})`,
      allowCommand: `azcmagent config set arcproxy.allowlist ${dest} --add`,
    };
  }
  const wouldDeny = !allowed;
  // The enterprise proxy cannot reach this machine's loopback; bypassed categories go direct.
  if (!policy.upstream || isLoopbackHost(target.host) || policy.bypass.allows(target)) {
    return { kind: 'direct', wouldDeny };
  }
  return { kind: 'upstream', proxy: policy.upstream, wouldDeny };
}

export function parseUpstreamProxy(text: string): UpstreamProxy | undefined {
  let url: URL;
  try {
    url = new URL(text.includes('://') ? text : `http://${text}`);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) return undefined;
  const authorization =
    url.username || url.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
      : undefined;
  return { url, authorization, display: redactUrl(url) };
}

export interface PolicyInputs {
  config: LocalConfig;
  cloud: CloudProfile;
  /** HTTPS_PROXY / HTTP_PROXY of the proxy's own environment, used when proxy.url is empty. */
  envProxy: string | undefined;
}

export interface BuiltPolicy {
  policy: RoutePolicy;
  /** What was wrong in the inputs and ignored; each is worth a log line. */
  problems: string[];
}

/** Turns the user's configuration into a policy; done once per configuration change, not per connection. */
export function buildPolicy({ config, cloud, envProxy }: PolicyInputs): BuiltPolicy {
  const problems: string[] = [];
  const { allowList, invalid } = compileAllowList(cloud.allow, config['arcproxy.allowlist']);
  for (const p of invalid)
    problems.push(`arcproxy.allowlist entry ignored, not host[:port] or *.domain[:port]: ${p}`);
  const proxyText = config['proxy.url'] || envProxy || '';
  const upstream = proxyText ? parseUpstreamProxy(proxyText) : undefined;
  if (proxyText && !upstream)
    problems.push(`enterprise proxy ignored, not an http:// or https:// URL: ${redactUrl(proxyText)}`);
  const categories = new Set<string>(config['proxy.bypass']);
  const bypass = new HostPatternSet(
    endpointPatterns(cloud.allow.filter((e) => e.category && categories.has(e.category))),
  );
  return { policy: { mode: config['arcproxy.allowlist.mode'], allowList, upstream, bypass }, problems };
}
