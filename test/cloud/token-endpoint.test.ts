// The Entra-shaped token endpoint: client credentials in, an RS256 JWT out that the published
// JWKS verifies; every refusal in Entra's shape with its AADSTS number; no secret in the log.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl } from '../helpers/world.ts';
import { startTestCloud, type TestCloud } from './helpers.ts';

let t: TestCloud;
let tokenPath: string;
const form = () => ({
  grant_type: 'client_credentials',
  client_id: t.connect['service-principal-id']!,
  client_secret: t.connect['service-principal-secret']!,
  scope: 'https://management.arc-local.test/.default',
});

beforeAll(async () => {
  t = await startTestCloud();
  tokenPath = `/${t.cloud.tenantId}/oauth2/v2.0/token`;
});
afterAll(() => t.close());

describe('POST /{tenant}/oauth2/v2.0/token', () => {
  it('issues a token that the JWKS verifies, for the audience asked, naming the principal', async () => {
    const a = await t.call(tokenPath, { form: form() });
    expect(a.status).toBe(200);
    expect(a.headers['cache-control']).toBe('no-store');
    expect(a.json).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });
    const jwks = await t.call(`/${t.cloud.tenantId}/discovery/v2.0/keys`);
    expect(jwks.status).toBe(200);
    const token = a.json.access_token as string;
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks.json as JSONWebKeySet), {
      issuer: `https://login.arc-local.test/${t.cloud.tenantId}/v2.0`,
      audience: 'https://management.arc-local.test',
      currentDate: t.clock.now(),
    });
    expect(payload).toMatchObject({ tid: t.cloud.tenantId, appid: t.connect['service-principal-id'] });
    expect(payload.exp! - payload.iat!).toBe(3599);
    expect(decodeProtectedHeader(token)).toMatchObject({
      alg: 'RS256',
      kid: jwks.json.keys[0].kid,
    });
  });

  it('accepts the credentials as HTTP Basic too (client_secret_basic)', async () => {
    const { client_id, client_secret, ...rest } = form();
    const basic = Buffer.from(`${client_id}:${encodeURIComponent(client_secret)}`).toString('base64');
    const a = await t.call(tokenPath, { form: rest, headers: { authorization: `Basic ${basic}` } });
    expect(a.status).toBe(200);
  });

  it('answers curl on the profile host name, trusting only ca.pem', async () => {
    const r = await curl([
      '--cacert',
      t.cloud.files.ca,
      '--resolve',
      `login.arc-local.test:${t.cloud.port}:127.0.0.1`,
      '-d',
      new URLSearchParams(form()).toString(),
      `https://login.arc-local.test:${t.cloud.port}${tokenPath}`,
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ token_type: 'Bearer' });
  });

  it.each([
    ['a wrong secret', { client_secret: 'nope' }, 401, 'invalid_client', 7000215],
    [
      'an unknown client',
      { client_id: '00000000-0000-0000-0000-000000000000' },
      401,
      'invalid_client',
      700016,
    ],
    ['no secret at all', { client_secret: undefined }, 401, 'invalid_client', 7000216],
    ['another grant type', { grant_type: 'password' }, 400, 'unsupported_grant_type', 70003],
    ['no scope', { scope: undefined }, 400, 'invalid_request', 900144],
    [
      'a scope without /.default',
      { scope: 'https://management.arc-local.test' },
      400,
      'invalid_scope',
      1002012,
    ],
  ])('refuses %s in Entra’s shape', async (_what, change, status, error, aadsts) => {
    const body = Object.fromEntries(
      Object.entries({ ...form(), ...change }).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    const a = await t.call(tokenPath, { form: body });
    expect(a.status).toBe(status);
    expect(a.json).toMatchObject({ error, error_codes: [aadsts] });
    expect(a.json.error_description).toMatch(new RegExp(`^AADSTS${aadsts}: `));
    expect(a.json).toHaveProperty('trace_id');
    expect(a.json).toHaveProperty('correlation_id');
  });

  it('refuses an unknown tenant with 400 invalid_request (AADSTS90002)', async () => {
    const a = await t.call('/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token', { form: form() });
    expect(a.status).toBe(400);
    expect(a.json).toMatchObject({ error: 'invalid_request', error_codes: [90002] });
  });

  it('publishes an OpenID configuration that points at the token endpoint and the JWKS', async () => {
    const a = await t.call(`/${t.cloud.tenantId}/v2.0/.well-known/openid-configuration`);
    expect(a.status).toBe(200);
    expect(a.json).toMatchObject({
      issuer: `https://login.arc-local.test/${t.cloud.tenantId}/v2.0`,
      token_endpoint: `https://login.arc-local.test/${t.cloud.tenantId}/oauth2/v2.0/token`,
      jwks_uri: `https://login.arc-local.test/${t.cloud.tenantId}/discovery/v2.0/keys`,
    });
  });

  it('never writes the secret or a token to its log', async () => {
    const a = await t.call(tokenPath, { form: form() });
    const log = t.logLines();
    expect(log).toContain('token issued');
    expect(log).not.toContain(t.connect['service-principal-secret']);
    expect(log).not.toContain(a.json.access_token);
    expect(log).not.toContain((a.json.access_token as string).split('.')[2]);
  });
});
