// The names the local cloud answers to, and the two files it writes for the agent: profile.json
// (a CloudProfile, core/clouds.ts, with a resolve map so that the Arc Proxy reaches every name on
// this one port) and connect.json (a ready `azcmagent connect --config` file).
import type { CloudProfile } from '../core/index.ts';

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

export function localProfile(o: {
  host: string;
  port: number;
  caFile: string;
  regions: string[];
}): CloudProfile {
  const at = reachableAt(o.host, o.port);
  const hosts = [...Object.values(LOCAL_HOSTS), ...o.regions.map(regionalHisHost)];
  const allow = (host: string, purpose: string) => ({ host, port: 443, purpose });
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
    allow: [
      allow(LOCAL_HOSTS.login, 'Entra-shaped token endpoint'),
      allow(LOCAL_HOSTS.arm, 'Azure Resource Manager'),
      allow(`*.his.${LOCAL_DOMAIN}`, 'hybrid identity service'),
      allow(LOCAL_HOSTS.guestConfiguration, 'extension and machine configuration service'),
      allow(LOCAL_HOSTS.notifications, 'notification service'),
      allow(LOCAL_HOSTS.gatewayDomain, 'Arc gateway'),
      allow(`*.${LOCAL_HOSTS.gatewayDomain}`, 'Arc gateway'),
    ],
    caFile: o.caFile,
    resolve: Object.fromEntries(hosts.map((h) => [h, at])),
    regions: o.regions,
  };
}

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
