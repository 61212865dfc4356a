// The pure client-certificate check: issuer and validity at a given instant, not the wall clock.
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkCertificate,
  createCa,
  generateKeyPair,
  issueCertificate,
  renewalDue,
} from '../../certs/index.ts';

const DAY = 86_400_000;

describe('checkCertificate', () => {
  it('accepts inside the validity window, and says why outside it or from another CA', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const ca = await createCa('Check CA', 365, { now });
    const other = await createCa('Other CA', 365, { now });
    const keys = await generateKeyPair();
    const leaf = new X509Certificate(
      await issueCertificate({
        ca: ca.certPem,
        caKey: ca.privateKey,
        subjectPublicKey: keys.publicKey,
        subject: 'CN=m',
        days: 90,
        now,
        clientAuth: true,
      }),
    );
    const caCert = new X509Certificate(ca.certPem);
    expect(checkCertificate(leaf, caCert, now)).toEqual({ ok: true });
    expect(checkCertificate(leaf, caCert, new Date(now.getTime() + 89 * DAY))).toEqual({ ok: true });
    expect(checkCertificate(leaf, caCert, new Date(now.getTime() + 91 * DAY))).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(checkCertificate(leaf, caCert, new Date(now.getTime() - DAY))).toEqual({
      ok: false,
      reason: 'not-yet-valid',
    });
    expect(checkCertificate(leaf, new X509Certificate(other.certPem), now)).toEqual({
      ok: false,
      reason: 'not-issued-by-ca',
    });
  });
});

describe('renewalDue', () => {
  const notAfter = new Date('2030-04-01T00:00:00Z');
  it('follows the date the cloud gave', () => {
    const renewAfter = '2030-03-01T00:00:00.000Z';
    expect(renewalDue({ notAfter, renewAfter }, new Date('2030-02-28T23:59:59Z'))).toBe(false);
    expect(renewalDue({ notAfter, renewAfter }, new Date(renewAfter))).toBe(true);
  });

  it('without one, is due once 45 days or fewer remain', () => {
    expect(renewalDue({ notAfter }, new Date(notAfter.getTime() - 45 * DAY - 1))).toBe(false);
    expect(renewalDue({ notAfter }, new Date(notAfter.getTime() - 45 * DAY))).toBe(true);
    expect(renewalDue({ notAfter: notAfter.toISOString() }, new Date(notAfter.getTime() - 10 * DAY), 5)).toBe(
      false,
    );
  });
});
