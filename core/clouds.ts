// Cloud profiles as data: endpoint tables, bypass categories, the endpoints `azcmagent check` probes,
// and for the local cloud a resolve map. No code branches on which cloud it is. Tables:
// ../shared/reference/arc-cli-proxy-gateway.md sections 2.4 (check), 5 (bypass categories) and 7
// (network requirements).
import { readFile } from 'node:fs/promises';
import { AgentError } from './errors.ts';
import type { BypassCategory } from './config.ts';
import { schemaProblem } from './schema-check.ts';

export interface CloudEndpoint {
  /** A host name, or `*.` followed by a domain (any name below it, not the domain itself). */
  host: string;
  port: number;
  /** The `proxy.bypass` category that sends this endpoint direct, if any. */
  category?: BypassCategory;
  purpose: string;
}

/**
 * An endpoint `azcmagent check` (and connect's pre-check) probes: a concrete URL, because a wildcard
 * in the allow-list (`*.his.arc.azure.com`) cannot be dialled. `{region}` is the region name
 * (`eastus`), `{regionCode}` its short code from `regionCodes` (`eus`); an endpoint whose placeholder
 * cannot be filled is reported as skipped, not failed.
 */
export interface CheckEndpoint {
  url: string;
  purpose: string;
  /** `required`: the agent cannot work without it, a failure exits 26; `optional`: a failure warns. */
  need: 'required' | 'optional';
  /** Probed only with `--extensions all` or `--extensions <this name>` (e.g. `sql`, `ama`). */
  extension?: string;
  /** Served by a private endpoint under an Azure Arc private link scope: `--enable-pls-check` wants a private address. */
  privateLink?: boolean;
  /**
   * `azcmagent connect` calls it (token, machine resource, identity): connect's pre-check probes
   * these only, since a gateway serves a machine without an identity nothing else (reference 6.3).
   */
  onboarding?: boolean;
}

export interface CloudProfile {
  name: string;
  /** Service endpoints the agent calls, as base URLs. */
  endpoints: {
    arm: string;
    login: string;
    hisGlobal: string;
    guestConfiguration: string;
    notifications: string;
    gatewayDomain: string;
  };
  /** Everything the agent and its extensions may need to reach: the built-in allow-list. */
  allow: CloudEndpoint[];
  /** PEM bundle of the cloud's CAs, beside the system's; the local cloud has one. */
  caFile?: string;
  /** host -> `127.0.0.1:port`, used by the Arc Proxy's dialer only (the local cloud). */
  resolve?: Record<string, string>;
  /** Region names (lower case, no spaces) that `connect --location` accepts; any when absent. */
  regions?: string[];
  /** Region name -> the short code in regional host names (`eastus` -> `eus`), for `{regionCode}`. */
  regionCodes?: Record<string, string>;
  /** What `azcmagent check` probes; when absent, the base URLs of `endpoints` (see checkEndpointsOf). */
  check?: CheckEndpoint[];
}

// Region names as `az account list-locations` gives them (name column).
const PUBLIC_REGIONS = [
  'eastus',
  'eastus2',
  'westus',
  'westus2',
  'westus3',
  'centralus',
  'northcentralus',
  'southcentralus',
  'westcentralus',
  'canadacentral',
  'canadaeast',
  'brazilsouth',
  'brazilsoutheast',
  'mexicocentral',
  'chilecentral',
  'northeurope',
  'westeurope',
  'uksouth',
  'ukwest',
  'francecentral',
  'francesouth',
  'germanywestcentral',
  'germanynorth',
  'norwayeast',
  'norwaywest',
  'swedencentral',
  'swedensouth',
  'switzerlandnorth',
  'switzerlandwest',
  'polandcentral',
  'italynorth',
  'spaincentral',
  'austriaeast',
  'belgiumcentral',
  'denmarkeast',
  'eastasia',
  'southeastasia',
  'japaneast',
  'japanwest',
  'koreacentral',
  'koreasouth',
  'australiaeast',
  'australiasoutheast',
  'australiacentral',
  'australiacentral2',
  'centralindia',
  'southindia',
  'westindia',
  'jioindiawest',
  'jioindiacentral',
  'uaenorth',
  'uaecentral',
  'qatarcentral',
  'israelcentral',
  'southafricanorth',
  'southafricawest',
  'newzealandnorth',
  'indonesiacentral',
  'malaysiawest',
  'taiwannorth',
];

const ep = (host: string, purpose: string, category?: BypassCategory, port = 443): CloudEndpoint =>
  category ? { host, port, category, purpose } : { host, port, purpose };

const AMA_PUBLIC = [
  ep('global.handler.control.monitor.azure.com', 'Azure Monitor Agent control', 'AMA'),
  ep('*.handler.control.monitor.azure.com', 'Azure Monitor Agent regional control', 'AMA'),
  ep('*.ods.opinsights.azure.com', 'Azure Monitor Agent ingestion', 'AMA'),
  ep('*.oms.opinsights.azure.com', 'Log Analytics', 'AMA'),
  ep('*.monitoring.azure.com', 'Azure Monitor metrics', 'AMA'),
  ep('*.ingest.monitor.azure.com', 'Azure Monitor data collection endpoints', 'AMA'),
];

const probe = (
  url: string,
  purpose: string,
  more: Partial<Omit<CheckEndpoint, 'url' | 'purpose'>> = {},
): CheckEndpoint => ({ url, purpose, need: 'required', ...more });
const privateLink = { privateLink: true } as const;
const onboarding = { onboarding: true } as const;
const extension = (name: string) => ({ need: 'optional', extension: name }) as const;

/**
 * Regional identity-service short codes. Microsoft documents eus, weu, wcus, scus, sea, uks, wus2,
 * ae, eus2, ne and fc (Arc-enabled Kubernetes quickstart, network requirements); the others are
 * names seen answering in DNS for their region (community endpoint scripts). A region missing here
 * has its regional identity-service probe skipped with a note: the global service names it at connect.
 */
const PUBLIC_REGION_CODES: Record<string, string> = {
  eastus: 'eus',
  eastus2: 'eus2',
  westus2: 'wus2',
  westcentralus: 'wcus',
  southcentralus: 'scus',
  westeurope: 'weu',
  northeurope: 'ne',
  uksouth: 'uks',
  francecentral: 'fc',
  southeastasia: 'sea',
  australiaeast: 'ae',
  germanywestcentral: 'gwc',
  swedencentral: 'sec',
  polandcentral: 'plc',
  italynorth: 'itn',
  eastasia: 'ea',
  koreacentral: 'kc',
  brazilsouth: 'brs',
  southafricanorth: 'san',
  uaenorth: 'uaen',
  qatarcentral: 'qac',
  israelcentral: 'ilc',
  indonesiacentral: 'idc',
  malaysiawest: 'myw',
};

export const AzureCloud: CloudProfile = {
  name: 'AzureCloud',
  endpoints: {
    arm: 'https://management.azure.com',
    login: 'https://login.microsoftonline.com',
    hisGlobal: 'https://gbl.his.arc.azure.com',
    guestConfiguration: 'https://agentserviceapi.guestconfiguration.azure.com',
    notifications: 'https://guestnotificationservice.azure.com',
    gatewayDomain: 'gw.arc.azure.com',
  },
  regions: PUBLIC_REGIONS,
  regionCodes: PUBLIC_REGION_CODES,
  // What a verbose `azcmagent check` of the real agent probes (reference 2.4), plus the regional
  // Entra host that the gateway's onboarding list names (reference 6.3).
  check: [
    probe('https://login.microsoftonline.com', 'Entra ID tokens', onboarding),
    probe('https://login.windows.net', 'Entra ID tokens'),
    // Optional: not every region is known to have one, and the agent falls back to the global host.
    probe('https://{region}.login.microsoft.com', 'Entra ID tokens, regional', { need: 'optional' }),
    probe('https://pas.windows.net', 'Entra ID'),
    probe('https://management.azure.com', 'Azure Resource Manager (connect, disconnect)', onboarding),
    probe('https://gbl.his.arc.azure.com', 'hybrid identity service, global', {
      ...privateLink,
      ...onboarding,
    }),
    probe('https://{regionCode}.his.arc.azure.com', 'hybrid identity service, regional', {
      ...privateLink,
      ...onboarding,
    }),
    probe(
      'https://agentserviceapi.guestconfiguration.azure.com',
      'extension and machine configuration service',
      privateLink,
    ),
    probe(
      'https://{region}-gas.guestconfiguration.azure.com',
      'extension and machine configuration service, regional',
      privateLink,
    ),
    probe('https://guestnotificationservice.azure.com', 'notification service'),
    probe(
      'https://global.handler.control.monitor.azure.com',
      'Azure Monitor Agent control',
      extension('ama'),
    ),
    probe(
      'https://{region}.handler.control.monitor.azure.com',
      'Azure Monitor Agent regional control',
      extension('ama'),
    ),
    probe(
      'https://telemetry.{region}.arcdataservices.com',
      'SQL Server enabled by Azure Arc',
      extension('sql'),
    ),
    probe('https://graph.microsoft.com', 'SQL Server Entra authentication', extension('sql')),
  ],
  allow: [
    ep('download.microsoft.com', 'agent install and update'),
    ep('packages.microsoft.com', 'agent install and update'),
    ep('login.microsoftonline.com', 'Entra ID tokens', 'AAD'),
    ep('login.windows.net', 'Entra ID tokens', 'AAD'),
    ep('*.login.microsoft.com', 'Entra ID tokens', 'AAD'),
    ep('login.microsoft.com', 'Entra ID tokens', 'AAD'),
    ep('pas.windows.net', 'Entra ID', 'AAD'),
    ep('management.azure.com', 'Azure Resource Manager', 'ARM'),
    ep('*.his.arc.azure.com', 'hybrid identity service', 'Arc'),
    ep('*.guestconfiguration.azure.com', 'extension and machine configuration service', 'Arc'),
    ep('guestnotificationservice.azure.com', 'notification service'),
    ep('*.guestnotificationservice.azure.com', 'notification service'),
    ep('*.servicebus.windows.net', 'notifications, SSH and Windows Admin Center'),
    ep('*.waconazure.com', 'Windows Admin Center'),
    ep('*.gw.arc.azure.com', 'Arc gateway'),
    ep('*.blob.core.windows.net', 'extension downloads'),
    ep('dc.services.visualstudio.com', 'agent telemetry'),
    ep('graph.microsoft.com', 'SQL Server Entra authentication'),
    ep('*.vault.azure.net', 'Key Vault'),
    ep('*.arcdataservices.com', 'SQL Server enabled by Azure Arc', 'ArcData'),
    ep('www.microsoft.com', 'extended security updates certificates'),
    ep('www.microsoft.com', 'extended security updates certificates', undefined, 80),
    ep('dls.microsoft.com', 'hotpatch and licensing'),
    ...AMA_PUBLIC,
    ep('management.azure.com', 'Azure Monitor Agent', 'AMA'),
  ],
};

export const AzureUSGovernment: CloudProfile = {
  name: 'AzureUSGovernment',
  endpoints: {
    arm: 'https://management.usgovcloudapi.net',
    login: 'https://login.microsoftonline.us',
    hisGlobal: 'https://gbl.his.arc.azure.us',
    guestConfiguration: 'https://agentserviceapi.guestconfiguration.azure.us',
    notifications: 'https://guestnotificationservice.azure.us',
    gatewayDomain: 'gw.arc.azure.us',
  },
  regions: ['usgovvirginia', 'usgovarizona', 'usgovtexas', 'usdodeast', 'usdodcentral'],
  // One regional identity service for every US Government region (Microsoft's Arc-enabled
  // Kubernetes network requirements name usgv.his.arc.azure.us).
  regionCodes: Object.fromEntries(
    ['usgovvirginia', 'usgovarizona', 'usgovtexas', 'usdodeast', 'usdodcentral'].map((r) => [r, 'usgv']),
  ),
  // The `<region>-gas` and notification names follow the public cloud's pattern; the reference
  // lists only the wildcards for this cloud.
  check: [
    probe('https://login.microsoftonline.us', 'Entra ID tokens', onboarding),
    probe('https://pasff.usgovcloudapi.net', 'Entra ID'),
    probe('https://management.usgovcloudapi.net', 'Azure Resource Manager (connect, disconnect)', onboarding),
    probe('https://gbl.his.arc.azure.us', 'hybrid identity service, global', {
      ...privateLink,
      ...onboarding,
    }),
    probe('https://{regionCode}.his.arc.azure.us', 'hybrid identity service, regional', {
      ...privateLink,
      ...onboarding,
    }),
    probe(
      'https://agentserviceapi.guestconfiguration.azure.us',
      'extension and machine configuration service',
      privateLink,
    ),
    probe(
      'https://{region}-gas.guestconfiguration.azure.us',
      'extension and machine configuration service, regional',
      privateLink,
    ),
    probe('https://guestnotificationservice.azure.us', 'notification service'),
    probe(
      'https://telemetry.{region}.arcdataservices.azure.us',
      'SQL Server enabled by Azure Arc',
      extension('sql'),
    ),
  ],
  allow: [
    ep('download.microsoft.com', 'agent install and update'),
    ep('packages.microsoft.com', 'agent install and update'),
    ep('login.microsoftonline.us', 'Entra ID tokens', 'AAD'),
    ep('pasff.usgovcloudapi.net', 'Entra ID', 'AAD'),
    ep('management.usgovcloudapi.net', 'Azure Resource Manager', 'ARM'),
    ep('*.his.arc.azure.us', 'hybrid identity service', 'Arc'),
    ep('*.guestconfiguration.azure.us', 'extension and machine configuration service', 'Arc'),
    // The reference lists no US Government notification hosts; these follow the public cloud's pattern.
    ep('guestnotificationservice.azure.us', 'notification service'),
    ep('*.guestnotificationservice.azure.us', 'notification service'),
    ep('*.blob.core.usgovcloudapi.net', 'extension downloads'),
    ep('dc.applicationinsights.us', 'agent telemetry'),
    ep('*.arcdataservices.azure.us', 'SQL Server enabled by Azure Arc', 'ArcData'),
    ep('www.microsoft.com', 'extended security updates certificates'),
    ep('www.microsoft.com', 'extended security updates certificates', undefined, 80),
  ],
};

export const AzureChinaCloud: CloudProfile = {
  name: 'AzureChinaCloud',
  endpoints: {
    arm: 'https://management.chinacloudapi.cn',
    login: 'https://login.chinacloudapi.cn',
    hisGlobal: 'https://gbl.his.arc.azure.cn',
    guestConfiguration: 'https://agentserviceapi.guestconfiguration.azure.cn',
    notifications: 'https://guestnotificationservice.azure.cn',
    gatewayDomain: 'gw.arc.azure.cn',
  },
  regions: ['chinaeast', 'chinaeast2', 'chinaeast3', 'chinanorth', 'chinanorth2', 'chinanorth3'],
  // No public source gives this cloud's regional identity-service codes: that probe is skipped
  // with a note until they are added here.
  regionCodes: {},
  check: [
    probe('https://login.chinacloudapi.cn', 'Entra ID tokens', onboarding),
    probe('https://pas.chinacloudapi.cn', 'Entra ID'),
    probe('https://management.chinacloudapi.cn', 'Azure Resource Manager (connect, disconnect)', onboarding),
    probe('https://gbl.his.arc.azure.cn', 'hybrid identity service, global', {
      ...privateLink,
      ...onboarding,
    }),
    probe('https://{regionCode}.his.arc.azure.cn', 'hybrid identity service, regional', {
      ...privateLink,
      ...onboarding,
    }),
    probe(
      'https://agentserviceapi.guestconfiguration.azure.cn',
      'extension and machine configuration service',
      privateLink,
    ),
    probe(
      'https://{region}-gas.guestconfiguration.azure.cn',
      'extension and machine configuration service, regional',
      privateLink,
    ),
    probe('https://guestnotificationservice.azure.cn', 'notification service'),
  ],
  allow: [
    ep('download.microsoft.com', 'agent install and update'),
    ep('packages.microsoft.com', 'agent install and update'),
    ep('login.chinacloudapi.cn', 'Entra ID tokens', 'AAD'),
    ep('login.partner.chinacloudapi.cn', 'Entra ID tokens', 'AAD'),
    ep('pas.chinacloudapi.cn', 'Entra ID', 'AAD'),
    ep('management.chinacloudapi.cn', 'Azure Resource Manager', 'ARM'),
    ep('*.his.arc.azure.cn', 'hybrid identity service', 'Arc'),
    ep('*.guestconfiguration.azure.cn', 'extension and machine configuration service', 'Arc'),
    ep('guestnotificationservice.azure.cn', 'notification service'),
    ep('*.guestnotificationservice.azure.cn', 'notification service'),
    ep('*.servicebus.chinacloudapi.cn', 'notifications'),
    ep('*.blob.core.chinacloudapi.cn', 'extension downloads'),
    ep('dc.applicationinsights.azure.cn', 'agent telemetry'),
  ],
};

export const BUILTIN_CLOUDS: Record<string, CloudProfile> = {
  AzureCloud,
  AzureUSGovernment,
  AzureChinaCloud,
};

/**
 * The endpoints `azcmagent check` probes for a profile: its `check` list, or, for a profile file that
 * has none, the base URLs of its `endpoints` (all required; what every cloud has).
 */
export function checkEndpointsOf(cloud: CloudProfile): CheckEndpoint[] {
  if (cloud.check) return cloud.check;
  const e = cloud.endpoints;
  return [
    probe(e.login, 'Entra ID tokens', onboarding),
    probe(e.arm, 'Azure Resource Manager (connect, disconnect)', onboarding),
    probe(e.hisGlobal, 'hybrid identity service, global', { ...privateLink, ...onboarding }),
    probe(e.guestConfiguration, 'extension and machine configuration service', privateLink),
    probe(e.notifications, 'notification service'),
  ].filter((c) => c.url !== '');
}

/** A built-in cloud by name (case-insensitive), or a profile file (the local cloud writes one). */
export async function loadCloudProfile(nameOrPath: string): Promise<CloudProfile> {
  const builtin = Object.values(BUILTIN_CLOUDS).find(
    (c) => c.name.toLowerCase() === nameOrPath.toLowerCase(),
  );
  if (builtin) return builtin;
  if (!nameOrPath.includes('/') && !nameOrPath.endsWith('.json'))
    throw new AgentError('CLOUD_UNKNOWN', nameOrPath);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(nameOrPath, 'utf8'));
  } catch (err) {
    throw new AgentError('CLOUD_PROFILE_INVALID', `${nameOrPath}: ${(err as Error).message}`, { cause: err });
  }
  const problem = await schemaProblem('CloudProfileSchema', raw);
  if (problem) {
    throw new AgentError(
      'CLOUD_PROFILE_INVALID',
      `${nameOrPath}: ${problem.instancePath || '/'} ${problem.message}`,
    );
  }
  return raw as CloudProfile;
}
