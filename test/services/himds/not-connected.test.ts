// A machine without a usable identity gets an error that says so and what to do, never a token,
// not even one still in the cache: not connected (no agentconfig.json), reported Expired by the
// cloud, or past its certificate's notAfter.
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { HimdsService } from '../../../services/himds/server.ts';
import { API, connect, get, startTestHimds, tokenFlow, TOKEN } from './world.ts';

let himds: HimdsService | undefined;
afterEach(async () => {
  await himds?.stop();
  himds = undefined;
});

const q = `${API}&resource=https%3A%2F%2Fvault.azure.net`;

describe('a machine without a usable identity', () => {
  it('not connected: 409 not_connected on every route, pointing at azcmagent connect', async () => {
    ({ himds } = await startTestHimds({ connected: false }));
    for (const path of [`${TOKEN}?${q}`, `/metadata/instance?${API}`, `/metadata/instance/compute?${API}`]) {
      const a = await get(`${himds.url}${path}`);
      expect(a.status).toBe(409);
      expect(a.body['error']).toBe('not_connected');
      expect(a.body['error_description']).toContain('azcmagent connect');
    }
  });

  it('disconnected after a token was cached: the cached token is not served', async () => {
    const started = await startTestHimds({ stateMaxAgeMs: 0 });
    himds = started.himds;
    expect((await tokenFlow(himds.url, q)).answer.status).toBe(200);
    await rm(started.home.agentConfig);
    const { challenge, answer } = await tokenFlow(himds.url, q);
    expect(challenge.status).toBe(409);
    expect(answer.body['access_token']).toBeUndefined();
    expect(answer.body['error']).toBe('not_connected');
  });

  it('reported Expired: 409 identity_expired, saying to reconnect, even with a cached token', async () => {
    const started = await startTestHimds({ stateMaxAgeMs: 0 });
    himds = started.himds;
    expect((await tokenFlow(himds.url, q)).answer.status).toBe(200);
    await connect(started.home, { status: 'Expired' });
    const { answer } = await tokenFlow(himds.url, q);
    expect(answer.status).toBe(409);
    expect(answer.body['error']).toBe('identity_expired');
    expect(answer.body['error_description']).toContain(
      'azcmagent disconnect --force-local-only, then azcmagent connect',
    );
  });

  it('certificate past notAfter: 409 identity_expired naming when', async () => {
    const notAfter = new Date(Date.now() - 60_000).toISOString();
    ({ himds } = await startTestHimds({ connected: { certificateNotAfter: notAfter } }));
    const { answer } = await tokenFlow(himds.url, q);
    expect(answer.status).toBe(409);
    expect(answer.body['error']).toBe('identity_expired');
    expect(answer.body['error_description']).toContain(notAfter);
  });

  it('an expired machine still has its instance metadata', async () => {
    ({ himds } = await startTestHimds({ connected: { status: 'Expired' } }));
    expect((await get(`${himds.url}/metadata/instance/compute?${API}`)).status).toBe(200);
  });
});
