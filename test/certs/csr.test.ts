// PKCS#10 requests: ours verify in openssl, openssl's read in ours, and a forged one is refused.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createCa,
  createCsr,
  generateKeyPair,
  issueCertificate,
  keyMatchesCertificate,
  readCsr,
  type CertificateAuthority,
} from '../../certs/index.ts';
import { openssl } from './helpers.ts';

let ca: CertificateAuthority;
beforeAll(async () => {
  ca = await createCa('CSR test CA', 1);
});

describe('createCsr', () => {
  it('makes a request that openssl verifies, with the subject and key given', async () => {
    const keys = await generateKeyPair();
    const csr = await createCsr(keys, 'CN=host1, O=Contoso');
    expect(csr).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    const out = openssl(['req', '-in', 'r.csr', '-noout', '-verify', '-subject', '-pubkey'], {
      'r.csr': csr,
    });
    expect(out).toMatch(/subject=CN\s?=\s?host1, O\s?=\s?Contoso/);
    expect(out).toContain(keys.publicKeyPem.trim());
  });
});

describe('readCsr', () => {
  it('reads a request made by openssl (interoperability)', () => {
    const pem = openssl([
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      '/dev/null',
      '-subj',
      '/CN=from-openssl',
    ]);
    return expect(readCsr(pem)).resolves.toMatchObject({ subject: 'CN=from-openssl' });
  });

  it('refuses a request whose signature does not match its key (no proof of possession)', async () => {
    const csr = await createCsr(await generateKeyPair(), 'CN=victim');
    const body = csr.split('\n').slice(1, -2).join('');
    const der = Buffer.from(body, 'base64');
    der[der.length - 5]! ^= 0xff; // flip bits inside the signature
    const forged = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(readCsr(forged)).rejects.toMatchObject({ code: 'ARGUMENT_INVALID' });
    await expect(readCsr('not a csr')).rejects.toMatchObject({ code: 'ARGUMENT_INVALID' });
  });

  it('feeds issueCertificate: the certificate certifies the requesting key', async () => {
    const keys = await generateKeyPair();
    const pem = await issueCertificate({
      ca: ca.certPem,
      caKey: ca.privateKey,
      csr: await createCsr(keys, 'CN=ignored-by-the-ca'),
      subject: 'CN=chosen-by-the-ca',
      days: 1,
      clientAuth: true,
    });
    expect(keyMatchesCertificate(keys.privateKey, pem)).toBe(true);
    expect(openssl(['x509', '-in', 'c.pem', '-noout', '-subject'], { 'c.pem': pem })).toMatch(
      /chosen-by-the-ca/,
    );
  });
});
