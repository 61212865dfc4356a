// Upstream tokens are cached per resource as requested (with and without a trailing slash are two
// entries, each answered with its own spelling), refreshed before expiry (in the background past
// half their life, in the foreground with less than 5 minutes left), and fetched anew with
// bypass_cache=true. Concurrent requests for one resource make one upstream call.
import { afterEach, describe, expect, it } from 'vitest';
import { cacheDecision, type HimdsService } from '../../../services/himds/server.ts';
import { eventually } from '../../helpers/world.ts';
import { API, fakeTokenSource, startTestHimds, tokenFlow } from './world.ts';

let himds: HimdsService | undefined;
afterEach(async () => {
  await himds?.stop();
  himds = undefined;
});

const q = (resource: string, extra = '') => `${API}&resource=${encodeURIComponent(resource)}${extra}`;

describe('the token cache', () => {
  it('decides from the time left and the lifetime', () => {
    const entry = (obtainedAt: number, expiresOn: number) => ({
      obtainedAt,
      token: { accessToken: 't', expiresOn, notBefore: obtainedAt, tokenType: 'Bearer' },
    });
    expect(cacheDecision(undefined, 1000)).toBe('fetch');
    expect(cacheDecision(entry(0, 86_400), 1000)).toBe('use');
    expect(cacheDecision(entry(0, 86_400), 50_000)).toBe('use-and-refresh');
    expect(cacheDecision(entry(0, 86_400), 86_400 - 299)).toBe('fetch');
    expect(cacheDecision(entry(0, 600), 100)).toBe('use');
    expect(cacheDecision(entry(0, 600), 301)).toBe('fetch');
  });

  it('serves a cached token without asking upstream again', async () => {
    const source = await fakeTokenSource();
    ({ himds } = await startTestHimds({ tokenSource: source }));
    const first = await tokenFlow(himds.url, q('https://vault.azure.net'));
    const second = await tokenFlow(himds.url, q('https://vault.azure.net'));
    expect(second.answer.status).toBe(200);
    expect(second.answer.body['access_token']).toBe(first.answer.body['access_token']);
    expect(source.calls).toEqual(['https://vault.azure.net']);
  });

  it('keeps resources with and without a trailing slash apart, each answered as asked', async () => {
    const source = await fakeTokenSource();
    ({ himds } = await startTestHimds({ tokenSource: source }));
    const plain = await tokenFlow(himds.url, q('https://management.azure.com'));
    const slash = await tokenFlow(himds.url, q('https://management.azure.com/'));
    expect(plain.answer.body['resource']).toBe('https://management.azure.com');
    expect(slash.answer.body['resource']).toBe('https://management.azure.com/');
    expect(source.calls).toEqual(['https://management.azure.com', 'https://management.azure.com/']);
    await tokenFlow(himds.url, q('https://management.azure.com/'));
    expect(source.calls).toHaveLength(2);
  });

  it('fetches anew with bypass_cache=true', async () => {
    const source = await fakeTokenSource();
    ({ himds } = await startTestHimds({ tokenSource: source }));
    await tokenFlow(himds.url, q('https://vault.azure.net'));
    const fresh = await tokenFlow(himds.url, q('https://vault.azure.net', '&bypass_cache=true'));
    expect(fresh.answer.status).toBe(200);
    expect(source.calls).toHaveLength(2);
  });

  it('refreshes in the background past half-life, and in the foreground near expiry', async () => {
    let t = Date.now();
    const now = () => new Date(t);
    const source = await fakeTokenSource(now);
    source.lifetimeSeconds = 3600;
    ({ himds } = await startTestHimds({ tokenSource: source, now, stateMaxAgeMs: 0 }));
    const a = await tokenFlow(himds.url, q('https://vault.azure.net'));
    t += 1900_000; // 31.6 minutes: past half of the hour
    const b = await tokenFlow(himds.url, q('https://vault.azure.net'));
    expect(b.answer.body['access_token']).toBe(a.answer.body['access_token']); // served from the cache...
    expect(Number(b.answer.body['expires_in'])).toBe(3600 - 1900);
    await eventually(() => source.calls.length === 2); // ...while a new one is fetched
    t += 3500_000; // the refreshed token now has less than 5 minutes left
    const c = await tokenFlow(himds.url, q('https://vault.azure.net'));
    expect(source.calls).toHaveLength(3);
    expect(Number(c.answer.body['expires_in'])).toBe(3600);
  });

  it('makes one upstream call for concurrent requests', async () => {
    const source = await fakeTokenSource();
    ({ himds } = await startTestHimds({ tokenSource: source }));
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => tokenFlow(himds!.url, q('https://storage.azure.com'))),
    );
    expect(answers.every((a) => a.answer.status === 200)).toBe(true);
    expect(source.calls).toEqual(['https://storage.azure.com']);
  });

  it('answers every value as a string, expires_in and expires_on consistent', async () => {
    ({ himds } = await startTestHimds());
    const { answer } = await tokenFlow(himds.url, q('https://vault.azure.net'));
    const body = answer.body as Record<string, string>;
    for (const key of [
      'access_token',
      'expires_in',
      'expires_on',
      'ext_expires_in',
      'not_before',
      'resource',
      'token_type',
      'client_id',
    ])
      expect(typeof body[key], key).toBe('string');
    const now = Math.floor(Date.now() / 1000);
    expect(Math.abs(Number(body['expires_on']) - now - Number(body['expires_in']))).toBeLessThanOrEqual(2);
    expect(body['token_type']).toBe('Bearer');
  });

  it('answers a failing token source with a JSON 502 that says why', async () => {
    const source = await fakeTokenSource();
    source.fail = new Error('connect ECONNREFUSED');
    ({ himds } = await startTestHimds({ tokenSource: source }));
    const { answer } = await tokenFlow(himds.url, q('https://vault.azure.net'));
    expect(answer.status).toBe(502);
    expect(answer.body['error']).toBe('token_unavailable');
    expect(answer.body['error_description']).toContain('ECONNREFUSED');
  });
});
