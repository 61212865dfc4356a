// The app without sockets (fastify inject): routes answer with their schemas' shapes, and the
// machine routes refuse a request that has no TLS connection at all, hence no client certificate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from './helpers.ts';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(() => t.close());

describe('inject()', () => {
  it('names the service and its hosts at /', async () => {
    const r = await t.cloud.app.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ service: 'arc-local-cloud', arm: 'https://management.arc-local.test' });
  });

  it('refuses the machine routes without a client certificate', async () => {
    const r = await t.cloud.app.inject({
      method: 'POST',
      url: '/v1/machines/heartbeat',
      payload: { fingerprint: 'x' },
    });
    expect(r.statusCode).toBe(401);
    expect(r.json()).toEqual({ error: { code: 'ClientCertificateRequired', message: expect.any(String) } });
  });

  it('answers the token endpoint in Entra’s shape even for a body it cannot read', async () => {
    const r = await t.cloud.app.inject({
      method: 'POST',
      url: `/${t.cloud.tenantId}/oauth2/v2.0/token`,
      headers: { 'content-type': 'text/plain' },
      payload: 'grant_type=client_credentials',
    });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ error: 'invalid_request' });
  });
});
