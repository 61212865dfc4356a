// ARM for Microsoft.HybridCompute/gateways and a machine's settings/default: the public shapes, the
// gateway api-versions, and the machine routes' rules for tokens, names, regions and errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_API, gatewayPath, settingsPath } from './gateway-helpers.ts';
import { createAndRegister, startTestCloud, type TestCloud } from './helpers.ts';

let t: TestCloud;
let auth: { authorization: string };
beforeAll(async () => {
  t = await startTestCloud({ pageSize: 2 });
  auth = { authorization: `Bearer ${await t.spToken()}` };
});
afterAll(() => t.close());

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('ARM gateways', () => {
  it('has the cloud’s own gateway in arc-local-rg, its endpoint the listener’s name', async () => {
    const a = await t.call(`${t.cloud.gateway.id}?api-version=${GATEWAY_API}`, { headers: auth });
    expect(a.status).toBe(200);
    expect(a.json).toEqual({
      id: t.cloud.gateway.id,
      name: 'arc-local-gateway',
      type: 'Microsoft.HybridCompute/gateways',
      location: 'eastus',
      tags: {},
      properties: {
        provisioningState: 'Succeeded',
        gatewayId: expect.stringMatching(GUID),
        gatewayType: 'Public',
        gatewayEndpoint: t.cloud.gateway.url,
        allowedFeatures: ['*'],
      },
    });
    expect(t.cloud.gateway.url).toBe(`https://${a.json.properties.gatewayId}.gw.arc-local.test`);
  });

  it('creates (201), replaces (200, same guid), lists and deletes a gateway', async () => {
    const g = gatewayPath(t, 'gw-a');
    const created = await t.call(g.path, {
      method: 'PUT',
      headers: auth,
      body: { location: 'East US', tags: { env: 'lab' }, properties: { gatewayType: 'Public' } },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: g.id, name: 'gw-a', location: 'eastus', tags: { env: 'lab' } });
    const replaced = await t.call(g.path, { method: 'PUT', headers: auth, body: { location: 'eastus' } });
    expect(replaced.status).toBe(200);
    expect(replaced.json.properties.gatewayId).toBe(created.json.properties.gatewayId);
    for (const name of ['gw-b', 'gw-c'])
      expect(
        (
          await t.call(gatewayPath(t, name).path, {
            method: 'PUT',
            headers: auth,
            body: { location: 'eastus' },
          })
        ).status,
      ).toBe(201);

    const first = await t.call(
      `/subscriptions/${t.cloud.subscriptionId}/resourceGroups/rg1/providers/Microsoft.HybridCompute/gateways?api-version=${GATEWAY_API}`,
      { headers: auth },
    );
    const names = (list: { value: { name: string }[] }) => list.value.map((v) => v.name);
    expect(names(first.json as { value: { name: string }[] })).toEqual(['gw-a', 'gw-b']);
    const next = new URL(first.json.nextLink as string);
    const rest = await t.call(next.pathname + next.search, { headers: auth });
    expect(rest.json).toEqual({ value: [expect.objectContaining({ name: 'gw-c' })] });

    const all = await t.call(
      `/subscriptions/${t.cloud.subscriptionId}/providers/Microsoft.HybridCompute/gateways?api-version=2025-01-13&$skiptoken=0`,
      { headers: auth },
    );
    expect(all.json.value[0].name).toBe('arc-local-gateway');

    expect((await t.call(g.path, { method: 'DELETE', headers: auth })).status).toBe(200);
    expect((await t.call(g.path, { method: 'DELETE', headers: auth })).status).toBe(204);
    const gone = await t.call(g.path, { headers: auth });
    expect(gone.status).toBe(404);
    expect(gone.json.error.code).toBe('ResourceNotFound');
  });

  it('refuses the machine api-version, a missing token and another region', async () => {
    const g = gatewayPath(t, 'gw-x', 'rg1', '2024-07-10');
    const version = await t.call(g.path, { headers: auth });
    expect(version.status).toBe(400);
    expect(version.json.error.code).toBe('NoRegisteredProviderFound');
    expect(version.json.error.message).toContain("type 'gateways'");
    const anonymous = await t.call(gatewayPath(t, 'gw-x').path);
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error.code).toBe('AuthenticationFailed');
    const region = await t.call(gatewayPath(t, 'gw-x').path, {
      method: 'PUT',
      headers: auth,
      body: { location: 'mars' },
    });
    expect(region.status).toBe(400);
    expect(region.json.error.code).toBe('LocationNotAvailableForResourceType');
  });
});

describe('ARM settings/default', () => {
  it('shows no gateway, then the one PUT, with the tenant', async () => {
    const m = await createAndRegister(t, 'settled');
    const path = settingsPath(t, m.id);
    const before = await t.call(path, { headers: auth });
    expect(before.status).toBe(200);
    expect(before.json).toEqual({
      id: `${m.id}/providers/Microsoft.HybridCompute/settings/default`,
      name: 'default',
      type: 'Microsoft.HybridCompute/settings',
      properties: {
        tenantId: t.cloud.tenantId,
        gatewayProperties: { gatewayId: null, gatewayResourceId: null },
      },
    });
    const body = {
      properties: { gatewayProperties: { gatewayResourceId: t.cloud.gateway.id.toUpperCase() } },
    };
    const put = await t.call(path, { method: 'PUT', headers: auth, body });
    expect(put.status).toBe(200);
    expect(put.json.properties.gatewayProperties).toEqual({
      gatewayId: t.cloud.gateway.url.slice('https://'.length).split('.')[0],
      gatewayResourceId: t.cloud.gateway.id,
    });
    expect((await t.call(path, { headers: auth })).json).toEqual(put.json);
  });

  it('refuses an unknown gateway (400 InvalidGatewayResourceId) and an unknown machine (404)', async () => {
    const m = await createAndRegister(t, 'settled-2');
    const bad = await t.call(settingsPath(t, m.id), {
      method: 'PUT',
      headers: auth,
      body: { properties: { gatewayProperties: { gatewayResourceId: gatewayPath(t, 'nope').id } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('InvalidGatewayResourceId');
    const ghost = `/subscriptions/${t.cloud.subscriptionId}/resourceGroups/rg1/providers/Microsoft.HybridCompute/machines/ghost`;
    const missing = await t.call(settingsPath(t, ghost), { headers: auth });
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('ResourceNotFound');
  });
});
