// ARM for Microsoft.HybridCompute/machines over real HTTPS: the resource's shape, the status codes
// of create, update, read, list and delete, and ARM's error contract for each refusal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machinePath, startTestCloud, type Answer, type TestCloud } from './helpers.ts';

let t: TestCloud;
let auth: Record<string, string>;

beforeAll(async () => {
  t = await startTestCloud({ pageSize: 2 });
  auth = { authorization: `Bearer ${await t.spToken()}` };
});
afterAll(() => t.close());

const put = (name: string, body: unknown = { location: 'eastus' }, headers: Record<string, string> = {}) =>
  t.call(machinePath(t, name).path, { method: 'PUT', headers: { ...auth, ...headers }, body });

describe('PUT, GET, DELETE a machine', () => {
  it('creates with 201 and the ARM shape, updates with 200, reads it back', async () => {
    const created = await put('web1', {
      location: 'East US',
      tags: { env: 'test' },
      identity: { type: 'SystemAssigned' },
      properties: { osType: 'linux', status: 'Connected', vmId: 'not-yours' },
    });
    expect(created.status).toBe(201);
    const { id } = machinePath(t, 'web1');
    expect(created.json).toMatchObject({
      id,
      name: 'web1',
      type: 'Microsoft.HybridCompute/machines',
      location: 'eastus',
      tags: { env: 'test' },
      identity: { type: 'SystemAssigned', tenantId: t.cloud.tenantId },
      properties: { provisioningState: 'Succeeded', status: 'Disconnected', osType: 'linux' },
    });
    expect(created.json.identity.principalId).toMatch(/^[0-9a-f-]{36}$/);
    // Server-owned properties are the server's: the client's vmId was ignored.
    expect(created.json.properties.vmId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.headers['x-ms-request-id']).toBeTruthy();

    const updated = await put('web1', { location: 'eastus', tags: { env: 'prod' } });
    expect(updated.status).toBe(200);
    expect(updated.json.tags).toEqual({ env: 'prod' });
    expect(updated.json.properties.vmId).toBe(created.json.properties.vmId);

    const got = await t.call(machinePath(t, 'web1').path, { headers: auth });
    expect(got.status).toBe(200);
    expect(got.json).toEqual(updated.json);
  });

  it('matches paths case-insensitively, as ARM does', async () => {
    const { id } = machinePath(t, 'web1');
    const a = await t.call(
      `${id.toUpperCase().replace('/MACHINES/WEB1', '/machines/web1')}?api-version=2024-07-10`,
      {
        headers: auth,
      },
    );
    expect(a.status).toBe(200);
    expect(a.json.id).toBe(id);
  });

  it('refuses to overwrite with If-None-Match: * (412 PreconditionFailed)', async () => {
    const a = await put('web1', { location: 'eastus' }, { 'if-none-match': '*' });
    expect(a.status).toBe(412);
    expect(a.json.error.code).toBe('PreconditionFailed');
  });

  it('deletes with 200, then 204 when already gone, then GET is 404 ResourceNotFound', async () => {
    await put('gone1');
    const path = machinePath(t, 'gone1').path;
    // Sent as some clients do: a JSON content type and no body.
    const json = { ...auth, 'content-type': 'application/json' };
    expect((await t.call(path, { method: 'DELETE', headers: json })).status).toBe(200);
    expect((await t.call(path, { method: 'DELETE', headers: auth })).status).toBe(204);
    const a = await t.call(path, { headers: auth });
    expect(a.status).toBe(404);
    expect(a.json.error).toMatchObject({ code: 'ResourceNotFound' });
    expect(a.json.error.message).toContain("'Microsoft.HybridCompute/machines/gone1'");
  });
});

describe('lists', () => {
  it('lists by resource group and by subscription, in pages joined by nextLink', async () => {
    for (const n of ['list-a', 'list-b', 'list-c'])
      expect(
        (
          await t.call(machinePath(t, n, 'rg-list').path, {
            method: 'PUT',
            headers: auth,
            body: { location: 'eastus' },
          })
        ).status,
      ).toBe(201);
    const base = `/subscriptions/${t.cloud.subscriptionId}/resourceGroups/rg-list/providers/Microsoft.HybridCompute/machines?api-version=2024-07-10`;
    const first = await t.call(base, { headers: auth });
    expect(first.status).toBe(200);
    const names = (page: Answer) => (page.json.value as { name: string }[]).map((m) => m.name);
    expect(names(first)).toEqual(['list-a', 'list-b']);
    const next = new URL(first.json.nextLink as string);
    expect(next.host).toBe('management.arc-local.test');
    const second = await t.call(`${next.pathname}${next.search}`, { headers: auth });
    expect(names(second)).toEqual(['list-c']);
    expect(second.json.nextLink).toBeUndefined();

    const all: string[] = [];
    let path: string | undefined =
      `/subscriptions/${t.cloud.subscriptionId}/providers/Microsoft.HybridCompute/machines?api-version=2024-07-10`;
    while (path) {
      const page = await t.call(path, { headers: auth });
      all.push(...names(page));
      path = page.json.nextLink
        ? new URL(page.json.nextLink as string).pathname + new URL(page.json.nextLink as string).search
        : undefined;
    }
    expect(all).toEqual(expect.arrayContaining(['web1', 'list-a', 'list-b', 'list-c']));
  });
});

describe('refusals in the ARM error contract', () => {
  it('401 AuthenticationFailed without a token, with a Bearer challenge', async () => {
    const a = await t.call(machinePath(t, 'web1').path);
    expect(a.status).toBe(401);
    expect(a.json.error.code).toBe('AuthenticationFailed');
    expect(a.headers['www-authenticate']).toMatch(
      /^Bearer authorization_uri="https:\/\/login\.arc-local\.test\//,
    );
  });

  it('401 InvalidAuthenticationToken for a forged token', async () => {
    const [h, p] = auth.authorization!.slice(7).split('.');
    const a = await t.call(machinePath(t, 'web1').path, {
      headers: { authorization: `Bearer ${h}.${p}.AAAA` },
    });
    expect(a.status).toBe(401);
    expect(a.json.error.code).toBe('InvalidAuthenticationToken');
  });

  it('401 InvalidAuthenticationTokenAudience for a token meant for another resource', async () => {
    const other = await t.spToken('https://vault.azure.net');
    const a = await t.call(machinePath(t, 'web1').path, { headers: { authorization: `Bearer ${other}` } });
    expect(a.status).toBe(401);
    expect(a.json.error.code).toBe('InvalidAuthenticationTokenAudience');
  });

  it('401 ExpiredAuthenticationToken once the token has expired (injected clock)', async () => {
    const token = await t.spToken();
    t.clock.advance(3600_000);
    try {
      const a = await t.call(machinePath(t, 'web1').path, { headers: { authorization: `Bearer ${token}` } });
      expect(a.status).toBe(401);
      expect(a.json.error.code).toBe('ExpiredAuthenticationToken');
    } finally {
      t.clock.advance(-3600_000);
    }
  });

  it.each([
    ['no api-version', '', 'MissingApiVersionParameter'],
    ['a malformed api-version', '?api-version=latest', 'InvalidApiVersionParameter'],
    ['an unsupported api-version', '?api-version=2019-01-01', 'NoRegisteredProviderFound'],
  ])('400 for %s', async (_what, query, code) => {
    const a = await t.call(`${machinePath(t, 'web1').id}${query}`, { headers: auth });
    expect(a.status).toBe(400);
    expect(a.json.error.code).toBe(code);
    expect(a.json.error.message).toContain('2024-07-10');
  });

  it('400 LocationNotAvailableForResourceType for an unknown region', async () => {
    const a = await put('nowhere', { location: 'atlantis' });
    expect(a.status).toBe(400);
    expect(a.json.error.code).toBe('LocationNotAvailableForResourceType');
    expect(a.json.error.message).toContain('eastus');
  });

  it('409 InvalidResourceLocation when the machine exists in another region', async () => {
    const a = await put('web1', { location: 'westeurope' });
    expect(a.status).toBe(409);
    expect(a.json.error.code).toBe('InvalidResourceLocation');
  });

  it('400 InvalidRequestContent for a body without a location, or not JSON', async () => {
    const a = await put('web2', { tags: {} });
    expect(a.status).toBe(400);
    expect(a.json.error.code).toBe('InvalidRequestContent');
    const b = await t.call(machinePath(t, 'web2').path, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: undefined,
    });
    expect(b.status).toBe(400);
    expect(b.json.error.code).toBe('InvalidRequestContent');
  });

  it('400 InvalidResourceName for a name the resource provider does not allow', async () => {
    const a = await put(encodeURIComponent('bad name!'));
    expect(a.status).toBe(400);
    expect(a.json.error.code).toBe('InvalidResourceName');
  });

  it('404 SubscriptionNotFound for another subscription', async () => {
    const a = await t.call(
      '/subscriptions/99999999-9999-9999-9999-999999999999/providers/Microsoft.HybridCompute/machines?api-version=2024-07-10',
      { headers: auth },
    );
    expect(a.status).toBe(404);
    expect(a.json.error.code).toBe('SubscriptionNotFound');
  });

  it('404 NotFound in the same shape for a path it does not serve', async () => {
    const a = await t.call('/no/such/path', { headers: auth });
    expect(a.status).toBe(404);
    expect(a.json.error.code).toBe('NotFound');
  });
});
