// The instance metadata document of GET /metadata/instance[/compute]: the subset of Azure IMDS that
// HIMDS has (../shared/reference/himds-identity.md section 2), filled from agentconfig.json and
// what the agent reads from the OS. Fields IMDS has but an Arc machine has not are empty strings,
// as on the real agent, so that scripts written for IMDS find every key.
import { Type, type Static } from 'typebox';
import type { AgentState } from '../../core/index.ts';
import type { MachineMetadata } from './metadata.ts';

const S = Type.String();

export const ComputeSchema = Type.Object({
  azEnvironment: S,
  customData: S,
  isHostCompatibilityLayerVm: S,
  location: S,
  name: S,
  offer: S,
  osType: S,
  placementGroupId: S,
  plan: Type.Object({ name: S, product: S, publisher: S }),
  platformFaultDomain: S,
  platformUpdateDomain: S,
  provider: S,
  publicKeys: Type.Array(Type.Object({ keyData: S, path: S })),
  publisher: S,
  resourceGroupName: S,
  resourceId: S,
  securityProfile: Type.Object({ secureBootEnabled: S, virtualTpmEnabled: S }),
  sku: S,
  storageProfile: Type.Object({}),
  subscriptionId: S,
  tags: S,
  tagsList: Type.Array(Type.Object({ name: S, value: S })),
  version: S,
  vmId: S,
  vmScaleSetName: S,
  vmSize: S,
  zone: S,
});

export const InstanceSchema = Type.Object({
  compute: ComputeSchema,
  network: Type.Object({}),
});

export type Compute = Static<typeof ComputeSchema>;
export type Instance = Static<typeof InstanceSchema>;

/** IMDS's names for the clouds (azEnvironment); a cloud of our own keeps its profile name. */
const AZ_ENVIRONMENT: Record<string, string> = {
  azurecloud: 'AzurePublicCloud',
  azureusgovernment: 'AzureUSGovernmentCloud',
  azurechinacloud: 'AzureChinaCloud',
};

export const azEnvironmentOf = (cloudName: string): string =>
  AZ_ENVIRONMENT[cloudName.toLowerCase()] ?? cloudName;

/** Tags as agentconfig.json may hold them (an object of strings); anything else counts as none. */
function tagsOf(state: AgentState): [string, string][] {
  const tags: unknown = (state as Record<string, unknown>)['tags'];
  if (!tags || typeof tags !== 'object' || Array.isArray(tags)) return [];
  return Object.entries(tags).filter((e): e is [string, string] => typeof e[1] === 'string');
}

export function buildCompute(state: AgentState, machine: MachineMetadata, cloudName: string): Compute {
  const tags = tagsOf(state);
  return {
    azEnvironment: azEnvironmentOf(cloudName),
    customData: '',
    isHostCompatibilityLayerVm: 'false',
    location: state.location,
    name: state.resourceName,
    offer: '',
    osType: machine.osType,
    placementGroupId: '',
    plan: { name: '', product: '', publisher: '' },
    platformFaultDomain: '',
    platformUpdateDomain: '',
    provider: 'Microsoft.HybridCompute',
    publicKeys: [],
    publisher: '',
    resourceGroupName: state.resourceGroup,
    resourceId: state.resourceId,
    securityProfile: { secureBootEnabled: '', virtualTpmEnabled: '' },
    sku: `${machine.osName} ${machine.osVersion}`.trim(),
    storageProfile: {},
    subscriptionId: state.subscriptionId,
    tags: tags.map(([k, v]) => `${k}:${v}`).join(';'),
    tagsList: tags.map(([name, value]) => ({ name, value })),
    version: machine.osVersion,
    vmId: state.vmId ?? '',
    vmScaleSetName: '',
    vmSize: '',
    zone: '',
  };
}

export const buildInstance = (state: AgentState, machine: MachineMetadata, cloudName: string): Instance => ({
  compute: buildCompute(state, machine, cloudName),
  network: {},
});
