// The names the local cloud answers to, and the files it writes for the agent: profile.json (a
// CloudProfile, core/clouds.ts, with a resolve map so that the Arc Proxy reaches every name on this
// one port, and the gateway's name on the gateway's port), connect.json (a ready `azcmagent connect
// --config` file) and connect-gateway.json (the same, onboarding through the gateway).
import type { CloudEndpoint, CloudProfile } from '../core/index.ts';

export const LOCAL_DOMAIN = 'arc-local.test';

export const LOCAL_HOSTS = {
  arm: `management.${LOCAL_DOMAIN}`,
  login: `login.${LOCAL_DOMAIN}`,
  hisGlobal: `gbl.his.${LOCAL_DOMAIN}`,
  guestConfiguration: `agentserviceapi.guestconfiguration.${LOCAL_DOMAIN}`,
  notifications: `guestnotificationservice.${LOCAL_DOMAIN}`,
  gatewayDomain: `gw.${LOCAL_DOMAIN}`,
} as const;

export const ARM_ENDPOINT = `https://${LOCAL_HOSTS.arm}`;
export const LOGIN_ENDPOINT = `https://${LOCAL_HOSTS.login}`;

/** A regional identity-service host, e.g. eastus.his.arc-local.test. */
export const regionalHisHost = (region: string): string => `${region}.his.${LOCAL_DOMAIN}`;

/** Every DNS name in the server certificate: the profile's hosts, the wildcards below them, localhost. */
export function serverNames(host: string): string[] {
  const names: string[] = [
    ...Object.values(LOCAL_HOSTS),
    `*.his.${LOCAL_DOMAIN}`,
    `*.${LOCAL_HOSTS.gatewayDomain}`,
    'localhost',
  ];
  if (!isIp(host) && !names.includes(host) && host !== '0.0.0.0') names.push(host);
  return names;
}

export function serverIpAddresses(host: string): string[] {
  const ips = ['127.0.0.1', '::1'];
  if (isIp(host) && !ips.includes(host) && host !== '0.0.0.0' && host !== '::') ips.push(host);
  return ips;
}

const isIp = (host: string) => /^[0-9.]+$/.test(host) || host.includes(':');

/** Where a client on this machine reaches the listener, as `address:port` for the resolve map. */
export function reachableAt(host: string, port: number): string {
  if (host === '0.0.0.0' || host === 'localhost') return `127.0.0.1:${port}`;
  if (host === '::') return `[::1]:${port}`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The profile's `allow`: every endpoint of the local cloud, on 443. */
export function localAllow(): CloudEndpoint[] {
  const allow = (host: string, purpose: string) => ({ host, port: 443, purpose });
  return [
    allow(LOCAL_HOSTS.login, 'Entra-shaped token endpoint'),
    allow(LOCAL_HOSTS.arm, 'Azure Resource Manager'),
    allow(`*.his.${LOCAL_DOMAIN}`, 'hybrid identity service'),
    allow(LOCAL_HOSTS.guestConfiguration, 'extension and machine configuration service'),
    allow(LOCAL_HOSTS.notifications, 'notification service'),
    allow(LOCAL_HOSTS.gatewayDomain, 'Arc gateway'),
    allow(`*.${LOCAL_HOSTS.gatewayDomain}`, 'Arc gateway'),
  ];
}

export function localProfile(o: {
  host: string;
  port: number;
  caFile: string;
  regions: string[];
  /** The Arc gateway's own name and where its listener is reached (`address:port`). */
  gateway?: { host: string; at: string };
}): CloudProfile {
  const at = reachableAt(o.host, o.port);
  const hosts = [...Object.values(LOCAL_HOSTS), ...o.regions.map(regionalHisHost)];
  return {
    name: 'Local',
    endpoints: {
      arm: ARM_ENDPOINT,
      login: LOGIN_ENDPOINT,
      hisGlobal: `https://${LOCAL_HOSTS.hisGlobal}`,
      guestConfiguration: `https://${LOCAL_HOSTS.guestConfiguration}`,
      notifications: `https://${LOCAL_HOSTS.notifications}`,
      gatewayDomain: LOCAL_HOSTS.gatewayDomain,
    },
    allow: localAllow(),
    // What `azcmagent check` probes, the regional identity service included ({region}: the machine's).
    check: [
      { url: LOGIN_ENDPOINT, purpose: 'Entra-shaped token endpoint', need: 'required', onboarding: true },
      { url: ARM_ENDPOINT, purpose: 'Azure Resource Manager', need: 'required', onboarding: true },
      {
        url: `https://${LOCAL_HOSTS.hisGlobal}`,
        purpose: 'identity service, global',
        need: 'required',
        privateLink: true,
        onboarding: true,
      },
      {
        url: `https://{region}.his.${LOCAL_DOMAIN}`,
        purpose: 'identity service, regional',
        need: 'required',
        privateLink: true,
        onboarding: true,
      },
      {
        url: `https://${LOCAL_HOSTS.guestConfiguration}`,
        purpose: 'extension and machine configuration service',
        need: 'required',
        privateLink: true,
      },
      { url: `https://${LOCAL_HOSTS.notifications}`, purpose: 'notification service', need: 'required' },
    ],
    caFile: o.caFile,
    resolve: {
      ...Object.fromEntries(hosts.map((h) => [h, at])),
      ...(o.gateway ? { [o.gateway.host]: o.gateway.at } : {}),
    },
    regions: o.regions,
  };
}

/** connect.json for a machine that onboards through the gateway (`azcmagent connect --gateway-id`). */
export const connectGatewayConfig = (
  connect: Record<string, string>,
  gateway: { id: string; url: string },
): Record<string, string> => ({ ...connect, 'gateway-id': gateway.id, 'gateway-url': gateway.url });

/** The keys are `azcmagent connect`'s long flag names. Holds a secret: written 0600, never logged. */
export function connectConfig(o: {
  clientId: string;
  secret: string;
  tenantId: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  profilePath: string;
}): Record<string, string> {
  return {
    'service-principal-id': o.clientId,
    'service-principal-secret': o.secret,
    'tenant-id': o.tenantId,
    'subscription-id': o.subscriptionId,
    'resource-group': o.resourceGroup,
    location: o.location,
    cloud: o.profilePath,
  };
}
