// The unmodified Azure SDK client, @azure/arm-hybridcompute 3.0.0 (api-version 2021-05-20), drives
// the local cloud's ARM over HTTPS, trusting the cloud's CA through the SDK's own tlsOptions, with
// a credential that gets its tokens from the cloud's token endpoint. That SDK version has no
// machines create operation, so the create goes through the same client's pipeline (sendRequest);
// get, both lists (paged by nextLink) and delete are the SDK's typed operations.
import { HybridComputeManagementClient } from '@azure/arm-hybridcompute';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machinePath, startTestCloud, type TestCloud } from './helpers.ts';

let t: TestCloud;
let client: HybridComputeManagementClient;
let tokenRequests = 0;

beforeAll(async () => {
  t = await startTestCloud({ pageSize: 2 });
  // A TokenCredential (the @azure/core-auth interface): client credentials against our endpoint.
  const credential = {
    getToken: async (scopes: string | string[]) => {
      tokenRequests++;
      const scope = [scopes].flat()[0]!;
      const token = await t.spToken(scope.replace(/\/\.default$/, ''));
      return { token, expiresOnTimestamp: t.clock.now().getTime() + 3_000_000 };
    },
  };
  client = new HybridComputeManagementClient(credential, t.cloud.subscriptionId, {
    endpoint: t.cloud.url,
    credentialScopes: ['https://management.arc-local.test/.default'],
    tlsOptions: { ca: t.cloud.caPem },
    retryOptions: { maxRetries: 0 },
  });
});
afterAll(() => t.close());

async function create(name: string, group: string): Promise<number> {
  const request = createPipelineRequest({
    url: `${t.cloud.url}${machinePath(t, name, group, '2021-05-20').path}`,
    method: 'PUT',
    body: JSON.stringify({ location: 'eastus', identity: { type: 'SystemAssigned' }, tags: { by: 'sdk' } }),
  });
  request.headers.set('content-type', 'application/json');
  const res = await client.sendRequest(request);
  return res.status;
}

describe('@azure/arm-hybridcompute against the local cloud', () => {
  it('creates, gets, lists and deletes machines', async () => {
    for (const n of ['sdk-1', 'sdk-2', 'sdk-3']) expect(await create(n, 'rg-sdk')).toBe(201);

    const got = await client.machines.get('rg-sdk', 'sdk-1');
    expect(got).toMatchObject({
      id: machinePath(t, 'sdk-1', 'rg-sdk').id,
      name: 'sdk-1',
      type: 'Microsoft.HybridCompute/machines',
      location: 'eastus',
      tags: { by: 'sdk' },
      identity: { type: 'SystemAssigned', tenantId: t.cloud.tenantId },
      properties: { status: 'Disconnected', provisioningState: 'Succeeded' },
    });
    // The SDK turned lastStatusChange into a Date: the wire format is what it expects.
    expect(got.properties?.lastStatusChange).toBeInstanceOf(Date);
    expect(got.properties?.vmId).toMatch(/^[0-9a-f-]{36}$/);

    const byGroup: string[] = [];
    for await (const m of client.machines.listByResourceGroup('rg-sdk')) byGroup.push(m.name!);
    expect(byGroup).toEqual(['sdk-1', 'sdk-2', 'sdk-3']); // three machines, pages of two

    const bySubscription: string[] = [];
    for await (const m of client.machines.listBySubscription()) bySubscription.push(m.name!);
    expect(bySubscription).toEqual(expect.arrayContaining(['sdk-1', 'sdk-2', 'sdk-3']));

    await client.machines.delete('rg-sdk', 'sdk-2');
    await expect(client.machines.get('rg-sdk', 'sdk-2')).rejects.toMatchObject({
      statusCode: 404,
      code: 'ResourceNotFound',
    });
    const after: string[] = [];
    for await (const m of client.machines.listByResourceGroup('rg-sdk')) after.push(m.name!);
    expect(after).toEqual(['sdk-1', 'sdk-3']);
    expect(tokenRequests).toBeGreaterThan(0);
  });

  it('surfaces ARM errors as RestError with the code', async () => {
    const stranger = new HybridComputeManagementClient(
      {
        getToken: () => Promise.resolve({ token: 'not-a-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
      },
      t.cloud.subscriptionId,
      { endpoint: t.cloud.url, tlsOptions: { ca: t.cloud.caPem }, retryOptions: { maxRetries: 0 } },
    );
    await expect(stranger.machines.get('rg-sdk', 'sdk-1')).rejects.toMatchObject({
      statusCode: 401,
      code: 'InvalidAuthenticationToken',
    });
  });
});
