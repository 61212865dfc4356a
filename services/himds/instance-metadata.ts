// The instance metadata document of GET /metadata/instance[/compute]: the subset of Azure IMDS that
// HIMDS has (../shared/reference/himds-identity.md section 2), filled from agentconfig.json and
// what the agent reads from the OS. Fields IMDS has but an Arc machine has not are empty strings,
// as on the real agent, so that scripts written for IMDS find every key. Its JSON Schema is in
// schemas.ts with HIMDS's other wire shapes, so that the commands that build it load no typebox.
import type { Static } from 'typebox';
import type { AgentState } from '../../core/index.ts';
import type { MachineMetadata } from './metadata.ts';
import type { ComputeSchema, InstanceSchema } from './schemas.ts';

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
