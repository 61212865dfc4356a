// What every request meets first, as on Azure IMDS: `Metadata: true` is required (an IMDS-shaped
// 400 otherwise), a request that came through a proxy (X-Forwarded-For) is refused, and every
// error is JSON in the {"error", "error_description"} shape, unknown routes and bad queries included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HimdsService } from '../../../services/himds/server.ts';
import { curl } from '../../helpers/world.ts';
import { API, get, startTestHimds, TOKEN } from './world.ts';

let himds: HimdsService;
beforeAll(async () => {
  ({ himds } = await startTestHimds());
});
afterAll(async () => {
  await himds?.stop();
});

const routes = ['/metadata/instance', '/metadata/instance/compute', `${TOKEN}`];

describe('request headers', () => {
  it.each(routes)('%s without Metadata: true gets 400 invalid_request', async (route) => {
    const cases: Record<string, string>[] = [{}, { Metadata: 'false' }, { Metadata: '' }];
    for (const headers of cases) {
      const a = await get(`${himds.url}${route}?${API}&resource=https://vault.azure.net`, headers);
      expect(a.status).toBe(400);
      expect(a.headers.get('content-type')).toMatch(/^application\/json/);
      expect(a.body).toEqual({
        error: 'invalid_request',
        error_description: expect.stringContaining('Required metadata header not specified') as string,
      });
    }
  });

  it('takes Metadata: true in any letter case', async () => {
    expect((await get(`${himds.url}/metadata/instance?${API}`, { metadata: 'TRUE' })).status).toBe(200);
  });

  it.each(routes)('%s refuses a request that carries X-Forwarded-For', async (route) => {
    const a = await get(`${himds.url}${route}?${API}&resource=https://vault.azure.net`, {
      Metadata: 'true',
      'X-Forwarded-For': '10.1.2.3',
    });
    expect(a.status).toBe(400);
    expect(a.body['error']).toBe('invalid_request');
    expect(a.body['error_description']).toContain('X-Forwarded-For');
  });

  it('answers unknown routes with a JSON 404', async () => {
    for (const path of ['/', '/metadata/attested/document?' + API, '/agentstatus', '/metadata/identity']) {
      const r = await curl([
        '-s',
        '-w',
        '\n%{http_code} %{content_type}',
        '-H',
        'Metadata: true',
        `${himds.url}${path}`,
      ]);
      const [body = '', status = ''] = r.stdout.split('\n');
      expect(status).toMatch(/^404 application\/json/);
      expect(JSON.parse(body)).toMatchObject({ error: 'not_found' });
    }
  });

  it('answers a malformed query with JSON, not an HTML or plain-text page', async () => {
    const a = await get(`${himds.url}${TOKEN}?${API}&resource=a&resource=b`);
    expect(a.status).toBe(400);
    expect(a.body['error']).toBe('invalid_request');
    expect(typeof a.body['error_description']).toBe('string');
  });

  it('refuses a token request without resource', async () => {
    const a = await get(`${himds.url}${TOKEN}?${API}`);
    expect(a.status).toBe(400);
    expect(a.body['error_description']).toContain('resource');
  });
});
