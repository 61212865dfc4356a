// Onboarding through an Arc gateway (`azcmagent connect --gateway-id`), the parts that decide:
// checking the flags, the provisional cloudconfig.json that lets the Arc Proxy route onboarding
// through the gateway before the cloud has said anything, and whether the running proxy uses it.
//
//   connect --gateway-id ID [--gateway-url URL]
//     -> (no URL: GET the gateway from ARM, properties.gatewayEndpoint)
//     -> cloudconfig.json = {gateway: {ID, URL, endpoints: the cloud profile's allow patterns}}
//     -> wait until the Arc Proxy's /health names the gateway, then the network pre-check, token,
//        machine, identity (all through the gateway)
//     -> PUT settings/default {gatewayResourceId: ID}; GET /v1/machines/cloudconfig -> cloudconfig.json
import { AgentError, type CloudConfig, type CloudProfile, type GatewayConfig } from '../../core/index.ts';
import { isGatewayResourceId } from './cloud-api.ts';

export interface GatewayChoice {
  id: string;
  /** From --gateway-url; undefined: look the gateway up in ARM. */
  url: string | undefined;
}

/** The gateway flags, checked; undefined when connect goes without a gateway. */
export function gatewayFlags(id: string | undefined, url: string | undefined): GatewayChoice | undefined {
  if (id === undefined || id === '') {
    if (url) throw new AgentError('MISSING_PARAMETER', '--gateway-url needs --gateway-id');
    return undefined;
  }
  if (!isGatewayResourceId(id)) throw new AgentError('GATEWAY_ID_INVALID', id);
  if (url === undefined || url === '') return { id, url: undefined };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AgentError(
      'ARGUMENT_INVALID',
      `--gateway-url ${url}: not a URL, e.g. https://<id>.gw.arc.azure.com`,
    );
  }
  if (parsed.protocol !== 'https:' || parsed.pathname !== '/' || parsed.search || parsed.username)
    throw new AgentError(
      'ARGUMENT_INVALID',
      `--gateway-url ${url}: give the gateway's https origin only, e.g. https://<id>.gw.arc.azure.com`,
    );
  return { id, url: parsed.origin };
}

/** The cloud profile's allow-list as gateway endpoint patterns: host (port 443) or host:port. */
export function gatewayEndpointsOf(cloud: CloudProfile): string[] {
  const patterns = cloud.allow.map((e) => (e.port === 443 ? e.host : `${e.host}:${e.port}`));
  return [...new Set(patterns)];
}

/**
 * What connect writes before the cloud has spoken: the gateway, serving what the cloud needs. The
 * cloud's own list replaces it once the machine is associated.
 */
export function provisionalCloudConfig(
  gateway: { id: string; url: string },
  cloud: CloudProfile,
  now: Date,
): CloudConfig {
  return {
    gateway: { id: gateway.id, url: gateway.url, endpoints: gatewayEndpointsOf(cloud) },
    updatedAt: now.toISOString(),
  };
}

/** Whether the Arc Proxy's /health answer (`gateway`: the URL in use, or null) names `gateway`. */
export function proxyUsesGateway(health: unknown, gateway: Pick<GatewayConfig, 'url'>): boolean {
  const inUse = (health as { gateway?: unknown } | undefined)?.gateway;
  const origin = (url: string) => url.toLowerCase().replace(/\/$/, '');
  return typeof inUse === 'string' && origin(inUse) === origin(gateway.url);
}

export interface WaitOptions {
  timeoutMs?: number;
  everyMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Polls the proxy's health (`ask`) until it uses `gateway`: the proxy applies cloudconfig.json
 * when it sees the file change, a moment after we write it. False when it did not within the time.
 */
export async function waitForProxyGateway(
  ask: () => Promise<unknown>,
  gateway: Pick<GatewayConfig, 'id' | 'url'>,
  opts: WaitOptions = {},
): Promise<boolean> {
  const { timeoutMs = 5_000, everyMs = 100 } = opts;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? Date.now;
  const end = now() + timeoutMs;
  for (;;) {
    if (proxyUsesGateway(await ask().catch(() => undefined), gateway)) return true;
    if (now() >= end) return false;
    await sleep(everyMs);
  }
}
