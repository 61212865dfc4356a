// Registration: an ARM token and the machine's public key (or a CSR) in, a client certificate from
// the cloud's CA out, which openssl accepts for TLS client use and which names the resource.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCa,
  createCsr,
  generateKeyPair,
  issueCertificate,
  readCertificate,
} from '../../certs/index.ts';
import { openssl } from '../certs/helpers.ts';
import { createAndRegister, heartbeat, machinePath, startTestCloud, type TestCloud } from './helpers.ts';

let t: TestCloud;
let auth: Record<string, string>;

beforeAll(async () => {
  t = await startTestCloud();
  auth = { authorization: `Bearer ${await t.spToken()}` };
});
afterAll(() => t.close());

const createMachine = async (name: string) => {
  const { id, path } = machinePath(t, name);
  const a = await t.call(path, { method: 'PUT', headers: auth, body: { location: 'eastus' } });
  expect(a.status).toBe(201);
  return id;
};

describe('POST /v1/machines/register', () => {
  it('certifies the public key for 90 days, renewal due at 45 days left, chained to ca.pem', async () => {
    const m = await createAndRegister(t, 'reg-1');
    const a = m.answer;
    expect(a).toMatchObject({
      resourceId: m.id,
      tenantId: t.cloud.tenantId,
      caCertificate: t.cloud.caPem,
      heartbeatIntervalSeconds: 300,
    });
    for (const k of ['vmId', 'principalId', 'clientId']) expect(a[k]).toMatch(/^[0-9a-f-]{36}$/);
    const info = readCertificate(a.certificate as string);
    expect(info.sha1).toBe(a.thumbprint);
    expect(info.uris).toEqual([`urn:arc-local:machine:${m.id}`]);
    expect(info.subject).toBe('CN=reg-1');
    const now = t.clock.now().getTime();
    expect(Date.parse(a.notAfter as string) - now).toBe(90 * 86_400_000);
    expect(Date.parse(a.notAfter as string) - Date.parse(a.renewAfter as string)).toBe(45 * 86_400_000);
    const files = { 'ca.pem': t.cloud.caPem, 'm.pem': a.certificate as string };
    expect(openssl(['verify', '-CAfile', 'ca.pem', '-purpose', 'sslclient', 'm.pem'], files)).toContain(
      'm.pem: OK',
    );
    // The machine shows Connected in ARM at once: registration counts as the first heartbeat.
    const got = await t.call(machinePath(t, 'reg-1').path, { headers: auth });
    expect(got.json.properties.status).toBe('Connected');
  });

  it('certifies the key of a CSR instead, after checking its signature', async () => {
    const id = await createMachine('reg-csr');
    const keys = await generateKeyPair();
    const csr = await createCsr(keys, 'CN=whatever');
    const a = await t.call('/v1/machines/register', {
      headers: auth,
      body: { resourceId: id, csr, fingerprint: 'f' },
    });
    expect(a.status).toBe(201);
    expect(readCertificate(a.json.certificate as string).publicKeyPem).toBe(keys.publicKeyPem);
    const forged = csr.replace(/.{8}\n-----END/, 'AAAAAAAA\n-----END');
    const b = await t.call('/v1/machines/register', {
      headers: auth,
      body: { resourceId: id, csr: forged, fingerprint: 'f' },
    });
    expect(b.status).toBe(400);
    expect(b.json.error.code).toBe('InvalidCertificateRequest');
  });

  it('refuses without an ARM token, for a resource that does not exist, and for weak or missing keys', async () => {
    const id = await createMachine('reg-bad');
    const { publicKeyPem } = await generateKeyPair();
    const noToken = await t.call('/v1/machines/register', {
      body: { resourceId: id, publicKey: publicKeyPem, fingerprint: 'f' },
    });
    expect(noToken.status).toBe(401);
    expect(noToken.json.error.code).toBe('AuthenticationFailed');

    const missing = await t.call('/v1/machines/register', {
      headers: auth,
      body: { resourceId: machinePath(t, 'never-made').id, publicKey: publicKeyPem, fingerprint: 'f' },
    });
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('ResourceNotFound');

    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    const a = await t.call('/v1/machines/register', {
      headers: auth,
      body: { resourceId: id, publicKey: weak, fingerprint: 'f' },
    });
    expect(a.status).toBe(400);
    expect(a.json.error.code).toBe('InvalidPublicKey');

    const neither = await t.call('/v1/machines/register', {
      headers: auth,
      body: { resourceId: id, fingerprint: 'f' },
    });
    expect(neither.status).toBe(400);
    expect(neither.json.error.code).toBe('InvalidRequestContent');

    const noFingerprint = await t.call('/v1/machines/register', {
      headers: auth,
      body: { resourceId: id, publicKey: publicKeyPem },
    });
    expect(noFingerprint.status).toBe(400);
    expect(noFingerprint.json.error.code).toBe('InvalidRequestContent');
  });

  it('registering again replaces the identity: the old certificate is refused with 401 CertificateRevoked', async () => {
    const first = await createAndRegister(t, 'reg-again');
    expect((await heartbeat(t, first)).status).toBe(200);
    const keys = await generateKeyPair();
    const again = await t.call('/v1/machines/register', {
      headers: auth,
      body: { resourceId: first.id, publicKey: keys.publicKeyPem, fingerprint: first.fingerprint },
    });
    expect(again.status).toBe(201);
    expect(again.json.vmId).toBe(first.answer.vmId);
    const old = await heartbeat(t, first);
    expect(old.status).toBe(401);
    expect(old.json.error.code).toBe('CertificateRevoked');
    const fresh = await heartbeat(t, { ...first, keys, cert: again.json.certificate });
    expect(fresh.status).toBe(200);
  });

  it('refuses client certificates it did not issue to a machine', async () => {
    const m = await createAndRegister(t, 'reg-foreign');
    const none = await t.call('/v1/machines/heartbeat', { body: { fingerprint: m.fingerprint } });
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('ClientCertificateRequired');

    const otherCa = await createCa('Someone else', 1);
    const cert = await issueCertificate({
      ca: otherCa.certPem,
      caKey: otherCa.privateKey,
      subjectPublicKey: m.keys.publicKey,
      subject: 'CN=reg-foreign',
      days: 1,
      clientAuth: true,
    });
    const foreign = await heartbeat(t, { ...m, cert });
    expect(foreign.status).toBe(401);
    expect(foreign.json.error.code).toBe('InvalidClientCertificate');
  });

  it('a deleted machine: its certificate gets 404 MachineNotFound', async () => {
    const m = await createAndRegister(t, 'reg-deleted');
    expect(
      (await t.call(machinePath(t, 'reg-deleted').path, { method: 'DELETE', headers: auth })).status,
    ).toBe(200);
    const a = await heartbeat(t, m);
    expect(a.status).toBe(404);
    expect(a.json.error.code).toBe('MachineNotFound');
  });
});
