// A secret answers one challenge, once: sent again it gets 401 (with a new challenge to answer),
// whether the first use succeeded or not, and a guessed or altered secret gets nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HimdsService } from '../../../services/himds/server.ts';
import { API, get, realmPath, startTestHimds, tokenFlow, TOKEN } from './world.ts';
import { readFile } from 'node:fs/promises';

let himds: HimdsService;
beforeAll(async () => {
  ({ himds } = await startTestHimds());
});
afterAll(async () => {
  await himds?.stop();
});

const url = () => `${himds.url}${TOKEN}?${API}&resource=https%3A%2F%2Fvault.azure.net`;
const withSecret = (secret: string) => get(url(), { Metadata: 'true', Authorization: `Basic ${secret}` });

describe('challenge secrets', () => {
  it('cannot be reused', async () => {
    const { answer, secret } = await tokenFlow(himds.url, `${API}&resource=https%3A%2F%2Fvault.azure.net`);
    expect(answer.status).toBe(200);
    const again = await withSecret(secret);
    expect(again.status).toBe(401);
    expect(again.body['error']).toBe('unauthorized_client');
    expect(again.body['access_token']).toBeUndefined();
    expect(realmPath(again)).toMatch(/\.key$/);
  });

  it('are single-use even when two requests race with the same secret', async () => {
    const challenge = await get(url());
    const secret = await readFile(realmPath(challenge), 'utf8');
    const answers = await Promise.all([withSecret(secret), withSecret(secret), withSecret(secret)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401]);
  });

  it('must match exactly: altered, shortened, extended or guessed secrets get 401', async () => {
    const challenge = await get(url());
    const secret = await readFile(realmPath(challenge), 'utf8');
    const flipped = `${secret.slice(0, -1)}${secret.endsWith('0') ? '1' : '0'}`;
    for (const wrong of [flipped, secret.slice(1), `${secret}0`, 'x'.repeat(64), 'a']) {
      expect((await withSecret(wrong)).status).toBe(401);
    }
    for (const header of [`Bearer ${secret}`, secret, 'Basic']) {
      expect((await get(url(), { Metadata: 'true', Authorization: header })).status).toBe(401);
    }
    // None of that used the real secret up.
    expect((await withSecret(secret)).status).toBe(200);
  });
});
