// A CA and the certificates it issues, judged by node:crypto, by openssl, and by a real TLS handshake.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createCa,
  generateKeyPair,
  issueCertificate,
  readCertificate,
  thumbprint,
  type CertificateAuthority,
  type KeyPair,
} from '../../certs/index.ts';
import { openssl } from './helpers.ts';

let ca: CertificateAuthority;
let serverKeys: KeyPair;
let serverPem: string;

beforeAll(async () => {
  ca = await createCa('Test Local Cloud CA', 30);
  serverKeys = await generateKeyPair();
  serverPem = await issueCertificate({
    ca: ca.certPem,
    caKey: ca.privateKey,
    subjectPublicKey: serverKeys.publicKey,
    subject: 'CN=localhost',
    days: 2,
    serverNames: ['localhost', 'management.arc-local.test', '*.his.arc-local.test'],
    ipAddresses: ['127.0.0.1'],
    serverAuth: true,
  });
});

describe('createCa', () => {
  it('makes a self-signed CA that node:crypto and openssl both accept as a CA', () => {
    const x = new X509Certificate(ca.certPem);
    expect(x.ca).toBe(true);
    expect(x.subject).toBe('CN=Test Local Cloud CA');
    expect(x.verify(x.publicKey)).toBe(true);
    expect(openssl(['verify', '-CAfile', 'ca.pem', 'ca.pem'], { 'ca.pem': ca.certPem })).toContain('OK');
    const text = openssl(['x509', '-in', 'ca.pem', '-noout', '-text'], { 'ca.pem': ca.certPem });
    expect(text).toMatch(/CA:TRUE/);
    expect(text).toMatch(/Certificate Sign/);
    expect(text).toMatch(/rsaEncryption[\s\S]*2048 bit/);
  });

  it('lasts the days asked for', () => {
    const info = readCertificate(ca.certPem);
    const days = (info.notAfter.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
  });
});

describe('issueCertificate', () => {
  it('issues a server certificate with its SANs that openssl verifies for TLS server use', () => {
    const info = readCertificate(serverPem);
    expect(info.dnsNames).toEqual(['localhost', 'management.arc-local.test', '*.his.arc-local.test']);
    expect(info.ipAddresses).toEqual(['127.0.0.1']);
    expect(info.isCa).toBe(false);
    expect(info.x509.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    const out = openssl(['verify', '-CAfile', 'ca.pem', '-purpose', 'sslserver', 'leaf.pem'], {
      'ca.pem': ca.certPem,
      'leaf.pem': serverPem,
    });
    expect(out).toContain('leaf.pem: OK');
  });

  it('issues a client certificate with the resource id as a SAN URI, accepted for TLS client use', async () => {
    const machine = await generateKeyPair();
    const id = '/subscriptions/0000/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/host1';
    const pem = await issueCertificate({
      ca: ca.certPem,
      caKey: ca.keyPem,
      subjectPublicKey: machine.publicKeyPem,
      subject: 'CN=host1',
      days: 90,
      uris: [`urn:arc-local:machine:${id}`],
      clientAuth: true,
    });
    expect(readCertificate(pem).uris).toEqual([`urn:arc-local:machine:${id}`]);
    const files = { 'ca.pem': ca.certPem, 'leaf.pem': pem };
    expect(openssl(['verify', '-CAfile', 'ca.pem', '-purpose', 'sslclient', 'leaf.pem'], files)).toContain(
      'OK',
    );
    // Not a server certificate: openssl refuses that purpose.
    expect(() =>
      openssl(['verify', '-CAfile', 'ca.pem', '-purpose', 'sslserver', 'leaf.pem'], files),
    ).toThrow();
  });

  it('refuses an ambiguous request: both or neither of a public key and a CSR', async () => {
    const base = { ca: ca.certPem, caKey: ca.privateKey, subject: 'CN=x', days: 1 };
    await expect(issueCertificate(base)).rejects.toMatchObject({ code: 'ARGUMENT_INVALID' });
    await expect(
      issueCertificate({ ...base, subjectPublicKey: serverKeys.publicKey, csr: 'x' }),
    ).rejects.toMatchObject({ code: 'ARGUMENT_INVALID' });
  });

  it('serves a real TLS handshake that a client trusting only the CA accepts', async () => {
    const server = https.createServer({ key: serverKeys.privateKeyPem, cert: serverPem }, (_req, res) =>
      res.end('hello'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get(
            { host: '127.0.0.1', port, servername: 'management.arc-local.test', ca: ca.certPem },
            (res) => {
              let text = '';
              res.on('data', (d: Buffer) => (text += d.toString()));
              res.on('end', () => resolve(text));
            },
          )
          .on('error', reject);
      });
      expect(body).toBe('hello');
    } finally {
      server.close();
    }
  });
});

describe('thumbprint', () => {
  it('matches openssl fingerprints, upper-case hex without colons', () => {
    const files = { 'leaf.pem': serverPem };
    const sha1 = openssl(['x509', '-in', 'leaf.pem', '-noout', '-fingerprint', '-sha1'], files);
    const sha256 = openssl(['x509', '-in', 'leaf.pem', '-noout', '-fingerprint', '-sha256'], files);
    expect(thumbprint(serverPem, 'sha1')).toBe(sha1.split('=')[1]!.trim().replaceAll(':', ''));
    expect(thumbprint(serverPem, 'sha256')).toBe(sha256.split('=')[1]!.trim().replaceAll(':', ''));
    expect(thumbprint(serverPem)).toMatch(/^[0-9A-F]{40}$/);
  });
});
