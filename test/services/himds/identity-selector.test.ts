// User-assigned selectors: an Arc machine has only its system-assigned identity, so client_id,
// object_id, msi_res_id or mi_res_id naming another identity get 404 identity_not_found (before any
// challenge when the mismatch is already known), and ones naming the machine's own identity get its
// token with the id echoed, as clients that fail closed require (reference section 1.4).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HimdsService } from '../../../services/himds/server.ts';
import {
  API,
  fakeTokenSource,
  get,
  startTestHimds,
  tokenFlow,
  TOKEN,
  type FakeTokenSource,
} from './world.ts';

let himds: HimdsService;
let source: FakeTokenSource;
let resourceId: string;
beforeAll(async () => {
  source = await fakeTokenSource();
  const started = await startTestHimds({ tokenSource: source });
  himds = started.himds;
  resourceId = started.state!.resourceId;
});
afterAll(async () => {
  await himds?.stop();
});

const q = (extra: string) => `${API}&resource=https%3A%2F%2Fvault.azure.net&${extra}`;
const other =
  '/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/other';

describe('user-assigned identity selectors', () => {
  it.each([`msi_res_id=${encodeURIComponent(other)}`, `mi_res_id=${encodeURIComponent(other)}`])(
    '%s for an identity the machine does not have: 404 before any challenge',
    async (selector) => {
      const a = await get(`${himds.url}${TOKEN}?${q(selector)}`);
      expect(a.status).toBe(404);
      expect(a.headers.get('www-authenticate')).toBeNull();
      expect(a.body).toMatchObject({ error: 'identity_not_found' });
      expect(a.body['error_description']).toContain('only its system-assigned identity');
    },
  );

  it.each([
    'client_id=00000000-0000-0000-0000-00000000beef',
    'object_id=00000000-0000-0000-0000-00000000beef',
  ])('%s for an identity the machine does not have: 404 identity_not_found', async (selector) => {
    const { answer } = await tokenFlow(himds.url, q(selector));
    expect(answer.status).toBe(404);
    expect(answer.body['error']).toBe('identity_not_found');
    expect(answer.body['access_token']).toBeUndefined();
  });

  it('msi_res_id of the machine itself gets its token, the id echoed', async () => {
    const { answer } = await tokenFlow(
      himds.url,
      q(`msi_res_id=${encodeURIComponent(resourceId.toUpperCase())}`),
    );
    expect(answer.status).toBe(200);
    expect(answer.body['msi_res_id']).toBe(resourceId.toUpperCase());
  });

  it('client_id and object_id of the machine itself get its token, the ids echoed', async () => {
    const byClient = await tokenFlow(himds.url, q(`client_id=${source.clientId}`));
    expect(byClient.answer.status).toBe(200);
    expect(byClient.answer.body['client_id']).toBe(source.clientId);
    const byObject = await tokenFlow(himds.url, q(`object_id=${source.objectId}`));
    expect(byObject.answer.status).toBe(200);
    expect(byObject.answer.body['object_id']).toBe(source.objectId);
  });

  it('refuses more than one selector', async () => {
    const a = await get(`${himds.url}${TOKEN}?${q(`client_id=a&object_id=b`)}`);
    expect(a.status).toBe(400);
    expect(a.body['error']).toBe('invalid_request');
  });
});
