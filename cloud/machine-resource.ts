// The Microsoft.HybridCompute/machines resource as ARM shows it, built from what the client PUT,
// what the agent reported at registration and in heartbeats, and the status at this instant.
// Shapes: the public REST spec, hybridcompute resource-manager 2024-07-10 (Machine, MachineProperties).
import { CloudError } from './errors.ts';
import type { ConnectionFacts, MachineStatus } from './status.ts';
import type { MachineRecord } from './store.ts';

export const MACHINE_TYPE = 'Microsoft.HybridCompute/machines';

/** Machine names as the resource provider allows them. */
const MACHINE_NAME = /^[a-zA-Z0-9-_.]{1,54}$/;
/** Resource group names as ARM allows them (1-90 characters, not ending in a period). */
const GROUP_NAME = /^[-\w._()]{1,90}$/u;

export const machineResourceId = (subscriptionId: string, resourceGroup: string, name: string): string =>
  `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${MACHINE_TYPE}/${name}`;

/** The database key of a resource id: ARM ids are case-insensitive. */
export const machineKey = (resourceId: string): string => resourceId.toLowerCase();

export function checkNames(resourceGroup: string, name?: string): void {
  if (!GROUP_NAME.test(resourceGroup) || resourceGroup.endsWith('.'))
    throw new CloudError('InvalidResourceName', `The resource group name '${resourceGroup}' is invalid.`);
  if (name !== undefined && !MACHINE_NAME.test(name))
    throw new CloudError(
      'InvalidResourceName',
      `The resource name '${name}' is invalid. It must be 1 to 54 letters, digits, '-', '_' or '.'.`,
    );
}

/** ARM's form of a location: "East US" and "eastus" are the same region. */
export const normalizeLocation = (location: string): string => location.replace(/\s+/g, '').toLowerCase();

/** Properties that the service owns: a client's values for them are ignored. */
const SERVER_OWNED = new Set(['provisioningState', 'status', 'lastStatusChange', 'errorDetails', 'vmId']);

export function clientProperties(properties: Record<string, unknown> | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(properties ?? {}).filter(([k]) => !SERVER_OWNED.has(k)));
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const defined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/**
 * What the agent reported (cloud/README.md, "Instance metadata") as ARM machine properties. Read
 * defensively: a field of the wrong type is left out, never guessed.
 */
export function reportedProperties(metadata: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!metadata) return {};
  const cpu = obj(metadata['cpu']);
  const detected = obj(metadata['detected']);
  const memoryMiB = num(metadata['memoryMiB']);
  const flag = (v: unknown) => (typeof v === 'boolean' ? String(v) : undefined);
  const interfaces = Array.isArray(metadata['networkInterfaces']) ? metadata['networkInterfaces'] : [];
  return defined({
    osName: str(metadata['osName']),
    osVersion: str(metadata['osVersion']),
    osType: str(metadata['osType']),
    osSku: str(metadata['osSku']),
    displayName: str(metadata['hostname']),
    machineFqdn: str(metadata['fqdn']),
    dnsFqdn: str(metadata['fqdn']),
    domainName: str(metadata['domainName']),
    mssqlDiscovered: flag(detected['mssql']),
    detectedProperties: defined({
      manufacturer: str(metadata['manufacturer']),
      model: str(metadata['model']),
      logicalCoreCount: num(cpu['logicalCores'])?.toString(),
      processorNames: str(cpu['model']),
      totalPhysicalMemoryInBytes: memoryMiB === undefined ? undefined : String(memoryMiB * 1024 * 1024),
      totalPhysicalMemoryInGigabytes:
        memoryMiB === undefined ? undefined : String(Math.round(memoryMiB / 1024)),
      mssqldiscovered: flag(detected['mssql']),
      mysqldiscovered: flag(detected['mysql']),
      pgsqldiscovered: flag(detected['postgresql']),
      kernelVersion: str(metadata['kernel']),
    }),
    networkProfile: {
      networkInterfaces: interfaces.map((nic) => ({
        ...(str(obj(nic)['name']) ? { name: str(obj(nic)['name']) } : {}),
        ipAddresses: (Array.isArray(obj(nic)['addresses']) ? (obj(nic)['addresses'] as unknown[]) : [])
          .map(obj)
          .filter((a) => str(a['address']))
          .map((a) => ({
            address: str(a['address']),
            ipAddressVersion: str(a['family']) ?? (String(a['address']).includes(':') ? 'IPv6' : 'IPv4'),
          })),
      })),
    },
  });
}

export interface MachineView {
  status: MachineStatus;
  lastStatusChange: Date;
}

/** The machine as GET, PUT and list return it. */
/** The machine resource on the wire. */
export interface ArmMachine {
  id: string;
  name: string;
  type: string;
  location: string;
  tags: Record<string, string>;
  identity: { type: string; principalId: string; tenantId: string };
  properties: Record<string, unknown>;
}

export function renderMachine(m: MachineRecord, view: MachineView, tenantId: string): ArmMachine {
  return {
    id: m.resourceId,
    name: m.name,
    type: MACHINE_TYPE,
    location: m.location,
    tags: m.tags,
    identity: { type: 'SystemAssigned', principalId: m.principalId, tenantId },
    properties: {
      ...m.properties,
      ...reportedProperties(m.metadata),
      ...(m.agentVersion ? { agentVersion: m.agentVersion } : {}),
      vmId: m.vmId,
      provisioningState: 'Succeeded',
      status: view.status,
      lastStatusChange: view.lastStatusChange.toISOString(),
    },
  };
}

/** The facts machineStatus() decides on, from a machine and its newest certificate. */
export function connectionFacts(m: MachineRecord, newest: { notAfter: string } | undefined): ConnectionFacts {
  const date = (s: string | undefined) => (s === undefined ? undefined : new Date(s));
  return {
    createdAt: new Date(m.createdAt),
    lastHeartbeat: date(m.lastHeartbeat),
    connectedSince: date(m.connectedSince),
    certificateNotAfter: date(newest?.notAfter),
  };
}
