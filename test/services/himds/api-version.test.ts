// HIMDS accepts the api-versions that current and older clients send to Arc (2019-08-15 by older
// azidentity Go, 2019-11-01 by the docs and older MSAL, 2020-06-01 by current clients) and later
// IMDS versions; anything else gets an IMDS-shaped 400 that names the supported ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkApiVersion, type HimdsService } from '../../../services/himds/server.ts';
import { get, startTestHimds } from './world.ts';

let himds: HimdsService;
beforeAll(async () => {
  ({ himds } = await startTestHimds());
});
afterAll(async () => {
  await himds?.stop();
});

describe('api-version', () => {
  it.each(['2019-08-15', '2019-11-01', '2020-06-01', '2021-02-01', '2023-07-01'])('accepts %s', (v) => {
    expect(checkApiVersion(v)).toBeUndefined();
  });

  it.each([undefined, '', '2018-02-01', '2019-08-14', 'latest', '2020-13-01', '2020-06-01x'])(
    'refuses %s',
    (v) => {
      expect(checkApiVersion(v)?.code).toBe('HIMDS_API_VERSION');
    },
  );

  it.each(['/metadata/instance', '/metadata/instance/compute', '/metadata/identity/oauth2/token?resource=x'])(
    '%s answers 400 invalid_request naming the supported versions',
    async (path) => {
      const sep = path.includes('?') ? '&' : '?';
      for (const url of [`${himds.url}${path}`, `${himds.url}${path}${sep}api-version=2017-01-01`]) {
        const a = await get(url);
        expect(a.status).toBe(400);
        expect(a.body['error']).toBe('invalid_request');
        expect(a.body['error_description']).toContain('2019-08-15, 2019-11-01, 2020-06-01');
      }
    },
  );

  it('serves metadata with each accepted version', async () => {
    for (const v of ['2019-08-15', '2019-11-01', '2020-06-01', '2021-12-13']) {
      expect((await get(`${himds.url}/metadata/instance/compute?api-version=${v}`)).status).toBe(200);
    }
  });
});
