// The routing decision, a pure function: for one destination and client, deny, or go direct, through
// the enterprise proxy, or through the Arc gateway. I/O lives in tunnel.ts, forward.ts and gateway-client/.
//
// Rules, in order (docs: README.md "Routes"):
//   1. the allow-list: enforce denies what it does not name; audit lets it through, marked would-deny;
//   2. loopback destinations go direct (no proxy or gateway can reach this machine's loopback);
//   3. without a gateway in use: proxy.bypass categories go direct, the rest through proxy.url (or direct);
//   4. with a gateway in use (connection.type default or gateway, and cloudconfig.json names one):
//      proxy.bypass is ignored; gateway.bypass, destinations the gateway does not serve, and the gateway
//      itself go through proxy.url (or direct); the rest through the gateway, via proxy.url when set.
import {
  type CloudConfig,
  type CloudProfile,
  type LocalConfig,
  NO_CLOUD_CONFIG,
  redactUrl,
} from '../core/index.ts';
import {
  type Gateway,
  type UpstreamProxy,
  parseGateway,
  parseUpstreamProxy,
} from '../gateway-client/index.ts';
import {
  ANY_PORT,
  type AllowList,
  type EndpointPattern,
  HostPatternSet,
  compileAllowList,
  endpointPatterns,
  parseEndpointPattern,
} from './allow-list.ts';
import { type Target, formatTarget, isLoopbackHost } from './target.ts';

export { parseUpstreamProxy, type UpstreamProxy };

export type Route =
  | { kind: 'direct' }
  | { kind: 'upstream'; proxy: UpstreamProxy }
  | { kind: 'gateway'; gateway: Gateway; via: UpstreamProxy | undefined };

export type RouteKind = Route['kind'];

export type Decision =
  { kind: 'deny'; reason: string; allowCommand: string } | (Route & { wouldDeny: boolean });

export interface GatewayPolicy {
  gateway: Gateway;
  /** What the gateway serves: cloudconfig.json's endpoints (port 443 where a pattern names none). */
  serves: AllowList;
  /** `gateway.bypass`: destinations that skip the gateway (any port where a pattern names none). */
  bypass: AllowList;
}

export interface RoutePolicy {
  mode: 'audit' | 'enforce';
  allowList: AllowList;
  /** The enterprise proxy, if any. */
  upstream: UpstreamProxy | undefined;
  /** Cloud endpoints whose `proxy.bypass` category sends them direct (not in gateway mode). */
  bypass: AllowList;
  /** The Arc gateway in use, if any. */
  gateway: GatewayPolicy | undefined;
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
  return { ...routeFor(target, policy), wouldDeny: !allowed };
}

function routeFor(target: Target, policy: RoutePolicy): Route {
  const around: Route = policy.upstream ? { kind: 'upstream', proxy: policy.upstream } : { kind: 'direct' };
  if (isLoopbackHost(target.host)) return { kind: 'direct' };
  const gw = policy.gateway;
  if (!gw) return policy.bypass.allows(target) ? { kind: 'direct' } : around;
  const isGateway = target.host === gw.gateway.host && target.port === gw.gateway.port;
  if (isGateway || gw.bypass.allows(target) || !gw.serves.allows(target)) return around;
  return { kind: 'gateway', gateway: gw.gateway, via: policy.upstream };
}

/**
 * Whether the Arc gateway is in use: `connection.type` default or gateway, and cloudconfig.json
 * names one. `gateway` without one falls back to direct or the enterprise proxy (and says so).
 */
export const gatewayInEffect = (
  connectionType: LocalConfig['connection.type'],
  cloudConfig: CloudConfig,
): boolean => connectionType !== 'direct' && cloudConfig.gateway !== null;

export interface PolicyInputs {
  config: LocalConfig;
  cloud: CloudProfile;
  /** cloudconfig.json: the Arc gateway the cloud associates with this machine. None when absent. */
  cloudConfig?: CloudConfig | undefined;
  /** HTTPS_PROXY / HTTP_PROXY of the proxy's own environment, used when proxy.url is empty. */
  envProxy: string | undefined;
}

export interface BuiltPolicy {
  policy: RoutePolicy;
  /** What was wrong in the inputs and ignored; each is worth a log line. */
  problems: string[];
}

/** Turns the user's configuration into a policy; done once per configuration change, not per connection. */
export function buildPolicy({ config, cloud, cloudConfig, envProxy }: PolicyInputs): BuiltPolicy {
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
  const gateway = buildGatewayPolicy(config, cloudConfig ?? NO_CLOUD_CONFIG, problems);
  return {
    policy: { mode: config['arcproxy.allowlist.mode'], allowList, upstream, bypass, gateway },
    problems,
  };
}

function buildGatewayPolicy(
  config: LocalConfig,
  cloudConfig: CloudConfig,
  problems: string[],
): GatewayPolicy | undefined {
  const type = config['connection.type'];
  if (type === 'gateway' && !cloudConfig.gateway)
    problems.push(
      'connection.type is gateway, but cloudconfig.json names no Arc gateway: traffic goes direct (or through proxy.url) until the cloud associates one with this machine',
    );
  if (!gatewayInEffect(type, cloudConfig) || !cloudConfig.gateway) return undefined;
  const gateway = parseGateway(cloudConfig.gateway);
  if (!gateway) {
    problems.push(
      `the Arc gateway is not used: cloudconfig.json's gateway URL is not an https:// URL with a host: ${redactUrl(cloudConfig.gateway.url)}`,
    );
    return undefined;
  }
  const serves = patterns(cloudConfig.gateway.endpoints, 443, 'cloudconfig.json gateway endpoint', problems);
  const bypass = patterns(config['gateway.bypass'], undefined, 'gateway.bypass entry', problems);
  if (config['proxy.bypass'].length > 0)
    problems.push(
      `proxy.bypass (${config['proxy.bypass'].join(', ')}) is ignored while the Arc gateway is in use; gateway.bypass names destinations that skip the gateway`,
    );
  return { gateway, serves: new HostPatternSet(serves), bypass: new HostPatternSet(bypass) };
}

/** Endpoint patterns; `defaultPort` for those that name none (undefined: any port). */
function patterns(
  texts: readonly string[],
  defaultPort: number | undefined,
  what: string,
  problems: string[],
): EndpointPattern[] {
  const out: EndpointPattern[] = [];
  for (const text of texts) {
    const p = parseEndpointPattern(text);
    if (!p) problems.push(`${what} ignored, not host[:port] or *.domain[:port]: ${text}`);
    else out.push(defaultPort !== undefined && p.port === ANY_PORT ? { ...p, port: defaultPort } : p);
  }
  return out;
}
