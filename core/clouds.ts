// Cloud profiles as data: endpoint tables, bypass categories, and for the local cloud a resolve map.
// No code branches on which cloud it is. Tables: ../shared/reference/arc-cli-proxy-gateway.md
// sections 5 (bypass categories) and 7 (network requirements).
import { readFile } from 'node:fs/promises';
import { AgentError } from './errors.ts';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import { BYPASS_CATEGORIES, type BypassCategory } from './config.ts';

export interface CloudEndpoint {
  /** A host name, or `*.` followed by a domain (any name below it, not the domain itself). */
  host: string;
  port: number;
  /** The `proxy.bypass` category that sends this endpoint direct, if any. */
  category?: BypassCategory;
  purpose: string;
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

const EndpointSchema = Type.Object({
  host: Type.String({ minLength: 1 }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  category: Type.Optional(Type.Union(BYPASS_CATEGORIES.map((c) => Type.Literal(c)))),
  purpose: Type.String(),
});
const CloudProfileSchema = Type.Object({
  name: Type.String({ minLength: 1 }),
  endpoints: Type.Object({
    arm: Type.String(),
    login: Type.String(),
    hisGlobal: Type.String(),
    guestConfiguration: Type.String(),
    notifications: Type.String(),
    gatewayDomain: Type.String(),
  }),
  allow: Type.Array(EndpointSchema),
  caFile: Type.Optional(Type.String()),
  regions: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z0-9]+$' }))),
  resolve: Type.Optional(
    Type.Record(
      Type.String(),
      Type.String({ pattern: '^[^:]+:[0-9]{1,5}$|^\\[[0-9a-fA-F:.]+\\]:[0-9]{1,5}$' }),
    ),
  ),
});

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
  const problem = Value.Errors(CloudProfileSchema, raw)[0];
  if (problem) {
    throw new AgentError(
      'CLOUD_PROFILE_INVALID',
      `${nameOrPath}: ${problem.instancePath || '/'} ${problem.message}`,
    );
  }
  return raw as CloudProfile;
}
