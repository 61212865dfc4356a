// GET /metadata/instance and /metadata/instance/compute: the IMDS subset of the reference (section
// 2), filled from agentconfig.json and the OS facts, every IMDS key present.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  azEnvironmentOf,
  createInstanceSource,
  type HimdsService,
  type MachineMetadata,
} from '../../../services/himds/server.ts';
import { API, connect, get, machineFacts, newHome, startTestHimds } from './world.ts';

let himds: HimdsService;
beforeAll(async () => {
  ({ himds } = await startTestHimds({ connected: { tags: { env: 'prod', owner: 'ops' } } as never }));
});
afterAll(async () => {
  await himds?.stop();
});

const KEYS = [
  'azEnvironment',
  'customData',
  'isHostCompatibilityLayerVm',
  'location',
  'name',
  'offer',
  'osType',
  'placementGroupId',
  'plan',
  'platformFaultDomain',
  'platformUpdateDomain',
  'provider',
  'publicKeys',
  'publisher',
  'resourceGroupName',
  'resourceId',
  'securityProfile',
  'sku',
  'storageProfile',
  'subscriptionId',
  'tags',
  'tagsList',
  'version',
  'vmId',
  'vmScaleSetName',
  'vmSize',
  'zone',
];

describe('instance metadata', () => {
  it('/metadata/instance/compute is filled from the connected machine', async () => {
    const a = await get(`${himds.url}/metadata/instance/compute?${API}`);
    expect(a.status).toBe(200);
    expect(Object.keys(a.body).sort()).toEqual([...KEYS].sort());
    expect(a.body).toMatchObject({
      azEnvironment: 'AzurePublicCloud',
      location: 'westeurope',
      name: 'host1',
      resourceGroupName: 'rg1',
      subscriptionId: '00000000-0000-0000-0000-000000000001',
      resourceId:
        '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1/providers/Microsoft.HybridCompute/machines/host1',
      vmId: '11111111-2222-3333-4444-555555555555',
      osType: 'linux',
      sku: 'Ubuntu 24.04',
      tags: 'env:prod;owner:ops',
      tagsList: [
        { name: 'env', value: 'prod' },
        { name: 'owner', value: 'ops' },
      ],
      plan: { name: '', product: '', publisher: '' },
    });
  });

  it('/metadata/instance has compute and network', async () => {
    const a = await get(`${himds.url}/metadata/instance?api-version=2019-11-01`);
    expect(a.status).toBe(200);
    expect(Object.keys(a.body).sort()).toEqual(['compute', 'network']);
    expect((a.body['compute'] as Record<string, unknown>)['resourceId']).toMatch(
      /Microsoft\.HybridCompute\/machines\/host1$/,
    );
  });

  it('accepts format=json and refuses other formats', async () => {
    expect((await get(`${himds.url}/metadata/instance?${API}&format=json`)).status).toBe(200);
    const text = await get(`${himds.url}/metadata/instance?${API}&format=text`);
    expect(text.status).toBe(400);
    expect(text.body['error']).toBe('invalid_request');
  });

  it('names the clouds as IMDS does', () => {
    expect(azEnvironmentOf('AzureCloud')).toBe('AzurePublicCloud');
    expect(azEnvironmentOf('AzureUSGovernment')).toBe('AzureUSGovernmentCloud');
    expect(azEnvironmentOf('AzureChinaCloud')).toBe('AzureChinaCloud');
    expect(azEnvironmentOf('Local')).toBe('Local');
  });

  it('hands out the document it built at once until the facts are due, and the old one while new ones are read', async () => {
    let t = 0;
    const reads: ((facts: MachineMetadata) => void)[] = [];
    const collect = () => new Promise<MachineMetadata>((resolve) => reads.push(resolve));
    const source = createInstanceSource({ collect, now: () => new Date(t), maxAgeMs: 1_000 });
    const state = await connect(await newHome());
    const facts = await machineFacts();

    expect(source.peek(state)).toBeUndefined(); // nothing built yet
    const building = source.instance(state);
    reads.shift()!({ ...facts, osVersion: '24.04' });
    const first = await building;
    expect(source.peek(state)).toBe(first);
    expect(source.peek({ ...state })).toBeUndefined(); // another read of agentconfig.json: built anew

    t = 1_000; // the facts are due: the next request reads them, and is served the old document
    expect(source.peek(state)).toBeUndefined();
    expect(await source.instance(state)).toBe(first);
    expect(source.peek(state)).toBe(first);
    reads.shift()!({ ...facts, osVersion: '26.04' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.peek(state)).toBeUndefined(); // new facts: not the old document any more
    const second = await source.instance(state);
    expect(second.compute.version).toBe('26.04');
    expect(source.peek(state)).toBe(second);
  });
});
