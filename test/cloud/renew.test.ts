// Certificate renewal with shortened lifetimes (10 days, renew at 4 or fewer left): the heartbeat
// says when, the machine renews over mutual TLS with a new key, and the new certificate carries on
// past the old one's expiry. The old one keeps working until it expires, so a lost answer is harmless.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, keyMatchesCertificate, readCertificate } from '../../certs/index.ts';
import { createAndRegister, DAY, heartbeat, machinePath, startTestCloud, type TestCloud } from './helpers.ts';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ certDays: 10, renewDays: 4 });
});
afterAll(() => t.close());

describe('POST /v1/machines/renew', () => {
  it('renews when due, with a new key; the machine never becomes Expired', async () => {
    const m = await createAndRegister(t, 'rn-1');
    expect(Date.parse(m.answer.notAfter as string) - Date.parse(m.answer.renewAfter as string)).toBe(4 * DAY);
    expect((await heartbeat(t, m)).json.renewNow).toBe(false);

    t.clock.advance(6 * DAY + 1000);
    const due = await heartbeat(t, m);
    expect(due.json).toMatchObject({
      status: 'Connected',
      renewNow: true,
      certificateRenewAfter: m.answer.renewAfter,
    });

    const keys = await generateKeyPair();
    const r = await t.call('/v1/machines/renew', {
      cert: m.cert,
      key: m.keys.privateKeyPem,
      body: { publicKey: keys.publicKeyPem, fingerprint: m.fingerprint },
    });
    expect(r.status).toBe(200);
    expect(r.json.caCertificate).toBe(t.cloud.caPem);
    expect(keyMatchesCertificate(keys.privateKey, r.json.certificate as string)).toBe(true);
    expect(Date.parse(r.json.notAfter as string)).toBe(t.clock.now().getTime() + 10 * DAY);
    expect(readCertificate(r.json.certificate as string).uris).toEqual([`urn:arc-local:machine:${m.id}`]);
    const renewed = { ...m, keys, cert: r.json.certificate as string };

    // Both work for now; the old one until it expires.
    expect((await heartbeat(t, m)).status).toBe(200);
    const next = await heartbeat(t, renewed);
    expect(next.json).toMatchObject({ renewNow: false, certificateNotAfter: r.json.notAfter });

    // Past the first certificate's expiry: the machine is still Connected on the new one.
    t.clock.advance(5 * DAY);
    expect((await heartbeat(t, m)).json.error.code).toBe('CertificateExpired');
    expect((await heartbeat(t, renewed)).json.status).toBe('Connected');
    const token = await t.spToken();
    const arm = await t.call(machinePath(t, 'rn-1').path, { headers: { authorization: `Bearer ${token}` } });
    expect(arm.json.properties.status).toBe('Connected');
  });

  it('needs the machine certificate, and exactly one of publicKey and csr', async () => {
    const m = await createAndRegister(t, 'rn-2');
    const { publicKeyPem } = await generateKeyPair();
    const anonymous = await t.call('/v1/machines/renew', { body: { publicKey: publicKeyPem } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error.code).toBe('ClientCertificateRequired');
    const neither = await t.call('/v1/machines/renew', { cert: m.cert, key: m.keys.privateKeyPem, body: {} });
    expect(neither.status).toBe(400);
    expect(neither.json.error.code).toBe('InvalidRequestContent');
  });
});
