// Associating a just-connected machine with its Arc gateway (connect --gateway-id): the ARM
// association, then the cloud's own account of the machine's configuration, asked over mutual TLS
// with the new machine certificate, and written to cloudconfig.json for the Arc Proxy.
import {
  AgentError,
  createOutboundDispatcher,
  type CloudConfig,
  type CloudProfile,
  type HomeLayout,
} from '../../core/index.ts';
import type { Dispatcher } from 'undici';
import { associateGateway, fetchCloudConfig } from './cloud-api.ts';
import { putCloudConfig } from './cloud-config-store.ts';

export interface AssociateOptions {
  home: HomeLayout;
  cloud: CloudProfile;
  /** The Arc Proxy, and the client through it that carries the ARM call. */
  proxyUrl: string;
  dispatcher: Dispatcher;
  /** The cloud's CA (profile caFile), for the mutual-TLS client. */
  ca: string | undefined;
  /** An ARM token that may write the machine's settings. */
  token: string;
  machineId: string;
  gatewayId: string;
  identity: { certPem: string; keyPem: string };
}

/** Associates, checks the cloud now names the gateway, writes cloudconfig.json; returns what it wrote. */
export async function associateMachineWithGateway(o: AssociateOptions): Promise<CloudConfig> {
  await associateGateway(o);
  const mtls = await createOutboundDispatcher({
    proxyUrl: o.proxyUrl,
    clientId: 'azcmagent',
    ca: o.ca,
    cert: o.identity.certPem,
    key: o.identity.keyPem,
  });
  let config: CloudConfig;
  try {
    config = await fetchCloudConfig({ dispatcher: mtls, cloud: o.cloud });
  } finally {
    await mtls.close();
  }
  if (config.gateway?.id.toLowerCase() !== o.gatewayId.toLowerCase())
    throw new AgentError(
      'GATEWAY_ASSOCIATION_FAILED',
      `after the association the cloud reports ${config.gateway ? `gateway ${config.gateway.id}` : 'no gateway'}`,
    );
  const written = { ...config, updatedAt: config.updatedAt ?? new Date().toISOString() };
  await putCloudConfig(o.home, written);
  return written;
}
