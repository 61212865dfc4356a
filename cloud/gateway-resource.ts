// The Microsoft.HybridCompute/gateways resource as ARM shows it, a machine's settings/default, the
// gateway the local cloud makes at first start, and what a machine is told about its gateway
// (heartbeat and cloudconfig). Shapes: the public REST spec, hybridcompute 2024-07-31-preview
// (Gateway, GatewayProperties, Settings, SettingsProperties, SettingsGatewayProperties).
import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../core/index.ts';
import { machineKey } from './machine-resource.ts';
import { LOCAL_HOSTS } from './profile.ts';
import type { CloudStore, GatewayRecord } from './store.ts';

export const GATEWAY_TYPE = 'Microsoft.HybridCompute/gateways';
export const SETTINGS_TYPE = 'Microsoft.HybridCompute/settings';
/** The gateway the local cloud makes at first start (its listener is the cloud's gateway port). */
export const DEFAULT_GATEWAY_NAME = 'arc-local-gateway';

export const gatewayResourceId = (subscriptionId: string, resourceGroup: string, name: string): string =>
  `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${GATEWAY_TYPE}/${name}`;

/** Database key of a gateway id (ARM ids are case-insensitive); the same rule as machines. */
export const gatewayKey = machineKey;

/** `<guid>.gw.arc-local.test`: the gateway's own name, as `<prefix>.gw.arc.azure.com` in Azure. */
export const gatewayHost = (g: Pick<GatewayRecord, 'gatewayId'>): string =>
  `${g.gatewayId}.${LOCAL_HOSTS.gatewayDomain}`;

export const gatewayUrl = (g: Pick<GatewayRecord, 'gatewayId'>): string => `https://${gatewayHost(g)}`;

export interface ArmGateway {
  id: string;
  name: string;
  type: string;
  location: string;
  tags: Record<string, string>;
  properties: {
    provisioningState: 'Succeeded';
    gatewayId: string;
    gatewayType: string;
    gatewayEndpoint: string;
    allowedFeatures: string[];
  };
}

export function renderGateway(g: GatewayRecord): ArmGateway {
  return {
    id: g.resourceId,
    name: g.name,
    type: GATEWAY_TYPE,
    location: g.location,
    tags: g.tags,
    properties: {
      provisioningState: 'Succeeded',
      gatewayId: g.gatewayId,
      gatewayType: g.gatewayType,
      gatewayEndpoint: gatewayUrl(g),
      allowedFeatures: g.allowedFeatures,
    },
  };
}

export interface ArmSettings {
  id: string;
  name: 'default';
  type: string;
  properties: {
    tenantId: string;
    gatewayProperties: { gatewayId: string | null; gatewayResourceId: string | null };
  };
}

/** A machine's settings/default: which gateway it uses, if any. */
export function renderSettings(
  machineResourceId: string,
  gateway: GatewayRecord | undefined,
  tenantId: string,
): ArmSettings {
  return {
    id: `${machineResourceId}/providers/${SETTINGS_TYPE}/default`,
    name: 'default',
    type: SETTINGS_TYPE,
    properties: {
      tenantId,
      gatewayProperties: {
        gatewayId: gateway?.gatewayId ?? null,
        gatewayResourceId: gateway?.resourceId ?? null,
      },
    },
  };
}

/** What a machine is told about its gateway (heartbeat, cloudconfig): core/cloud-config.ts's shape. */
export const gatewayConfig = (g: GatewayRecord | undefined, endpoints: string[]): GatewayConfig | null =>
  g ? { id: g.resourceId, url: gatewayUrl(g), endpoints } : null;

/**
 * The cloud's own gateway: made at first start, and made again with the same id and guid if it was
 * deleted through ARM (the listener always stands for it).
 */
export function ensureDefaultGateway(
  store: CloudStore,
  o: { subscriptionId: string; resourceGroup: string; location: string; at: string },
): GatewayRecord {
  const id = gatewayResourceId(o.subscriptionId, o.resourceGroup, DEFAULT_GATEWAY_NAME);
  const existing = store.getGateway(gatewayKey(id));
  if (existing) return existing;
  let guid = store.getMeta('gatewayId');
  if (guid === undefined) {
    guid = randomUUID();
    store.setMeta('gatewayId', guid);
  }
  const g: GatewayRecord = {
    key: gatewayKey(id),
    resourceId: id,
    subscriptionId: o.subscriptionId,
    resourceGroup: o.resourceGroup,
    name: DEFAULT_GATEWAY_NAME,
    location: o.location,
    gatewayId: guid,
    gatewayType: 'Public',
    allowedFeatures: ['*'],
    tags: {},
    createdAt: o.at,
    updatedAt: o.at,
  };
  store.putGateway(g);
  return g;
}
