// What the Arc gateway serves, as data: the public gateway's endpoint list (all 180 patterns of Microsoft's
// "Arc gateway endpoint list", MicrosoftDocs/azure-management-docs
// articles/azure-arc/servers/arc-gateway-endpoints.md, ms.date 2025-09-18), the local cloud's own
// endpoints, and the onboarding endpoints it serves without a client certificate. Pattern forms:
// `host`, `host:port`, `*.domain`, `*.domain:port` (port 443 when absent; `*.domain` matches names
// below the domain, not the domain itself), and two entries of the public list with a `*` inside a
// label (`azgn*.servicebus.windows.net`, `san-af-*-prod.azurewebsites.net`). gateway-target.ts
// compiles them.
import type { CloudEndpoint } from '../core/index.ts';
import { parsePattern } from './gateway-target.ts';
import { LOCAL_HOSTS, LOCAL_DOMAIN } from './profile.ts';

/** The public Arc gateway's list, as published (order and spelling kept, to diff against the source). */
export const PUBLIC_GATEWAY_ENDPOINTS: readonly string[] = [
  '*.arc.azure.net',
  '*.arcdatadogfood.com',
  '*.arcdataservices.com',
  '*.blob.core.windows.net',
  '*.blob.storage.azure.net',
  '*.checkappexec.microsoft.com',
  '*.data.mcr.microsoft.com',
  '*.delivery.mp.microsoft.com',
  '*.dm.microsoft.com',
  '*.download.microsoft.com',
  '*.download.windowsupdate.com',
  '*.dp.df.appliances-ppe.azure.com',
  '*.dp.kubernetesconfiguration.azure.com',
  '*.dp.prod.appliances.azure.com',
  '*.endpoint.security.microsoft.com',
  '*.guestconfiguration.azure.com',
  '*.guestnotificationservice.azure.com',
  '*.handler.control.monitor.azure.com',
  '*.his.arc.azure.com',
  '*.ingest.monitor.azure.com',
  '*.login.microsoft.com',
  '*.monitor.core.windows.net',
  '*.monitoring.azure.com',
  '*.obo.arc.azure.com',
  '*.obo.arc.azure.com:8084',
  '*.oms.opinsights.azure.com',
  '*.prod.do.dsp.mp.microsoft.com',
  '*.prod.hot.ingest.monitor.core.windows.net',
  '*.prod.microsoftmetrics.com',
  '*.prod.warm.ingest.monitor.core.windows.net',
  '*.security.microsoft.com',
  '*.service.waconazure.com',
  '*.servicebus.windows.net',
  '*.smartscreen.microsoft.com',
  '*.smartscreen-prod.microsoft.com',
  '*.trustedaccess.prod-aks.azure.com',
  '*.update.microsoft.com',
  '*.update.microsoft.com:80',
  '*.urs.microsoft.com',
  '*.waconazure.com',
  '*.wd.microsoft.com',
  '*.wdcp.microsoft.com',
  '*.web.core.windows.net',
  '*.windowsupdate.com',
  '*.windowsupdate.microsoft.com',
  '*.wns.windows.com',
  'adhs.events.data.microsoft.com',
  'adl.windows.com',
  'aka.ms',
  'arcdataservicesrow1.azurecr.io',
  'arcplatformcliextprod.z13.web.core.windows.net',
  'aszk8snetworking.azurecr.io',
  'automatedirstrprdcus.blob.core.windows.net',
  'automatedirstrprdcus3.blob.core.windows.net',
  'automatedirstrprdeus.blob.core.windows.net',
  'automatedirstrprdeus3.blob.core.windows.net',
  'automatedirstrprdneu.blob.core.windows.net',
  'automatedirstrprdneu3.blob.core.windows.net',
  'automatedirstrprduks.blob.core.windows.net',
  'automatedirstrprdukw.blob.core.windows.net',
  'automatedirstrprdweu.blob.core.windows.net',
  'automatedirstrprdweu3.blob.core.windows.net',
  'azgn*.servicebus.windows.net',
  'azurearcfork8s.azurecr.io',
  'azurearcfork8sdev.azurecr.io',
  'azureprivatecloud.azurecr.io',
  'azurestackhci.azurefd.net',
  'azurestackhci-usage.trafficmanager.net',
  'azurestackreleases.download.prss.microsoft.com',
  'azurewatsonanalysis-prod.core.windows.net',
  'billing.platform.edge.azure.com',
  'cdn.x.cp.wd.microsoft.com',
  'core.windows.net',
  'crl.microsoft.com',
  'ctldl.microsoft.com',
  'ctldl.windowsupdate.com',
  'data.policy.core.windows.net',
  'dc.services.visualstudio.com',
  'definitionupdates.microsoft.com',
  'developer.microsoft.com',
  'download.microsoft.com',
  'dp.stackhci.azure.com',
  'ecpacr.azurecr.io',
  'edgesupprd.trafficmanager.net',
  'enterpriseregistration.windows.net',
  'eu.vortex-win.data.microsoft.com',
  'europe.x.cp.wd.microsoft.com',
  'eu-v20.events.data.microsoft.com',
  'events.data.microsoft.com',
  'fe3.delivery.mp.microsoft.com',
  'fe3cr.delivery.mp.microsoft.com',
  'gcs.prod.monitoring.core.windows.net',
  'global.handler.control.monitor.azure.com',
  'go.microsoft.com',
  'graph.microsoft.com',
  'graph.windows.net',
  'guestnotificationservice.azure.com',
  'hciarcvmscontainerregistry.azurecr.io',
  'hciarcvmsstorage.z13.web.core.windows.net',
  'hybridaks.azurecr.io',
  'hybridaksstorage.z13.web.core.windows.net',
  'k8connecthelm.azureedge.net',
  'k8sconnectcsp.azureedge.net',
  'kvamanagementoperator.azurecr.io',
  'licensing.platform.edge.azure.com',
  'linuxgeneva-microsoft.azurecr.io',
  'login.live.com',
  'login.microsoft.com',
  'login.windows.net',
  'management.azure.com',
  'mcr.microsoft.com',
  'microsoft.com',
  'msdl.microsoft.com',
  'msk8s.api.cdp.microsoft.com',
  'msk8s.sb.tlu.dl.delivery.mp.microsoft.com',
  'officecdn-microsoft-com.akamaized.net',
  'onegetcdn.azureedge.net',
  'oneocsp.microsoft.com',
  'packages.microsoft.com',
  'pas.windows.net',
  'pipelineagent.azurecr.io',
  'pkgs.dev.azure.com',
  'portal.azure.com',
  'prod5.prod.hot.ingestion.msftcloudes.com',
  'psg-prod-eastus.azureedge.net',
  'redirectiontool.trafficmanager.net',
  'san-af-*-prod.azurewebsites.net',
  'settings-win.data.microsoft.com',
  'store.policy.core.windows.net',
  'sts.windows.net',
  'time.windows.com',
  'tlu.dl.delivery.mp.microsoft.com',
  'tsfe.trafficshaping.dsp.mp.microsoft.com',
  'uk.vortex-win.data.microsoft.com',
  'uk-v20.events.data.microsoft.com',
  'unitedkingdom.x.cp.wd.microsoft.com',
  'unitedstates.x.cp.wd.microsoft.com',
  'us.vortex-win.data.microsoft.com',
  'usseu1northprod.blob.core.windows.net',
  'usseu1westprod.blob.core.windows.net',
  'ussuk1southprod.blob.core.windows.net',
  'ussuk1westprod.blob.core.windows.net',
  'ussus1eastprod.blob.core.windows.net',
  'ussus1westprod.blob.core.windows.net',
  'ussus2eastprod.blob.core.windows.net',
  'ussus2westprod.blob.core.windows.net',
  'ussus3eastprod.blob.core.windows.net',
  'ussus3westprod.blob.core.windows.net',
  'ussus4eastprod.blob.core.windows.net',
  'ussus4westprod.blob.core.windows.net',
  'us-v20.events.data.microsoft.com',
  'v10.events.data.microsoft.com',
  'v20.events.data.microsoft.com',
  'vortex-win.data.microsoft.com',
  'winatp-gw-cane.microsoft.com',
  'winatp-gw-cus.microsoft.com',
  'winatp-gw-cus3.microsoft.com',
  'winatp-gw-eus.microsoft.com',
  'winatp-gw-eus3.microsoft.com',
  'winatp-gw-neu.microsoft.com',
  'winatp-gw-neu3.microsoft.com',
  'winatp-gw-uks.microsoft.com',
  'winatp-gw-ukw.microsoft.com',
  'winatp-gw-weu.microsoft.com',
  'winatp-gw-weu3.microsoft.com',
  'windowsupdate.microsoft.com',
  'wseu1northprod.blob.core.windows.net',
  'wseu1westprod.blob.core.windows.net',
  'wsuk1southprod.blob.core.windows.net',
  'wsuk1westprod.blob.core.windows.net',
  'wsus1eastprod.blob.core.windows.net',
  'wsus1westprod.blob.core.windows.net',
  'wsus2eastprod.blob.core.windows.net',
  'wsus2westprod.blob.core.windows.net',
  'wustat.windows.com',
  'www.microsoft.com',
  'www.microsoft.com:80',
  'www.office.com',
  'www.powershellgallery.com',
  'x.cp.wd.microsoft.com',
];

/**
 * Served without a client certificate: what a machine needs to onboard to THIS cloud (the token
 * endpoint, ARM, the global and regional identity service; the local cloud's counterparts of the
 * "seven endpoints", reference section 6.3). A locked-down network reaches only the gateway, so
 * `azcmagent connect` must get through it before the machine has a certificate. The installer hosts
 * of the seven (packages/download.microsoft.com) are not needed to onboard to a local cloud.
 */
export const LOCAL_ONBOARDING_ENDPOINTS: readonly string[] = [
  LOCAL_HOSTS.login,
  LOCAL_HOSTS.arm,
  LOCAL_HOSTS.hisGlobal,
  `*.his.${LOCAL_DOMAIN}`,
];

const DEFAULT_PORT = 443;

/** A profile endpoint as a pattern string: `host` on 443, else `host:port`. */
export const endpointPattern = (e: Pick<CloudEndpoint, 'host' | 'port'>): string =>
  e.port === DEFAULT_PORT ? e.host : `${e.host}:${e.port}`;

/**
 * Everything this gateway serves, in the order: public list, the local cloud's endpoints, the
 * operator's extras. Duplicates are dropped.
 */
export function gatewayPatterns(localAllow: readonly CloudEndpoint[], extra: readonly string[]): string[] {
  return [...new Set([...PUBLIC_GATEWAY_ENDPOINTS, ...localAllow.map(endpointPattern), ...extra])];
}

/**
 * The list machines receive (heartbeat, cloudconfig): only the forms the agent matches (host,
 * host:port, *.domain, *.domain:port). The two label wildcards are left out: the agent then sends
 * those few names its other way (azgn* is covered by *.servicebus.windows.net anyway).
 */
export const advertisedEndpoints = (patterns: readonly string[]): string[] =>
  patterns.filter((p) => parsePattern(p)?.plain === true);
