// Tokens for the machine's managed identity: aud is the resource asked for, the subject is the
// machine's principal, and the values are strings as HIMDS hands them on
// (../shared/reference/himds-identity.md section 1.4). ARM accepts the machine's own ARM token.
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAndRegister,
  machinePath,
  startTestCloud,
  type Registered,
  type TestCloud,
} from './helpers.ts';

let t: TestCloud;
let m: Registered;
beforeAll(async () => {
  t = await startTestCloud();
  m = await createAndRegister(t, 'mi-1');
});
afterAll(() => t.close());

const token = (resource: string) =>
  t.call('/v1/machines/token', { cert: m.cert, key: m.keys.privateKeyPem, body: { resource } });

describe('POST /v1/machines/token', () => {
  it('issues a token with aud = the requested resource and the machine as subject', async () => {
    const a = await token('https://vault.azure.net');
    expect(a.status).toBe(200);
    const now = Math.floor(t.clock.now().getTime() / 1000);
    expect(a.json).toEqual({
      access_token: expect.any(String),
      client_id: m.answer.clientId,
      expires_in: '86399',
      expires_on: String(now + 86399),
      ext_expires_in: '86399',
      not_before: String(now),
      resource: 'https://vault.azure.net',
      token_type: 'Bearer',
    });
    const jwks = await t.call(`/${t.cloud.tenantId}/discovery/v2.0/keys`);
    const { payload } = await jwtVerify(
      a.json.access_token as string,
      createLocalJWKSet(jwks.json as JSONWebKeySet),
      {
        audience: 'https://vault.azure.net',
        issuer: `https://login.arc-local.test/${t.cloud.tenantId}/v2.0`,
        currentDate: t.clock.now(),
      },
    );
    expect(payload).toMatchObject({
      sub: m.answer.principalId,
      oid: m.answer.principalId,
      appid: m.answer.clientId,
      tid: t.cloud.tenantId,
      xms_mirid: m.id,
    });
  });

  it('gives the machine a token ARM accepts', async () => {
    const a = await token('https://management.arc-local.test/');
    const got = await t.call(machinePath(t, 'mi-1').path, {
      headers: { authorization: `Bearer ${a.json.access_token}` },
    });
    expect(got.status).toBe(200);
    expect(got.json.identity.principalId).toBe(m.answer.principalId);
  });

  it('needs the machine certificate', async () => {
    const a = await t.call('/v1/machines/token', { body: { resource: 'https://vault.azure.net' } });
    expect(a.status).toBe(401);
    expect(a.json.error.code).toBe('ClientCertificateRequired');
  });
});
