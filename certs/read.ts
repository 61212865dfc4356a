// Reading certificates with node:crypto's X509Certificate: names, validity, thumbprints, and the
// pure check the local cloud makes of a client certificate (issued by our CA, valid at a given time).
import type { KeyObject, X509Certificate } from 'node:crypto';
import { AgentError, nodeCrypto } from '../core/index.ts';

export type ThumbprintAlgorithm = 'sha1' | 'sha256';

export interface CertificateInfo {
  subject: string;
  issuer: string;
  /** Upper-case hex, as node:crypto prints it. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-1 thumbprint: upper-case hex, no colons (what Windows and Azure call the thumbprint). */
  sha1: string;
  sha256: string;
  /** DNS names, IP addresses and URIs from the subjectAltName. */
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  isCa: boolean;
  /** SPKI PEM. */
  publicKeyPem: string;
  /** The certificate as node:crypto holds it, for verify() and checkIssued(). */
  x509: X509Certificate;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle, in order. */
export const splitPemBundle = (pem: string): string[] => pem.match(PEM_CERT)?.map((c) => `${c}\n`) ?? [];

function parse(cert: string | Buffer | X509Certificate): X509Certificate {
  const { X509Certificate } = nodeCrypto();
  if (cert instanceof X509Certificate) return cert;
  try {
    return new X509Certificate(cert);
  } catch (err) {
    throw new AgentError('ARGUMENT_INVALID', 'not a PEM or DER certificate', { cause: err });
  }
}

/** Values of one kind from node's subjectAltName text ("DNS:a, IP Address:1.2.3.4, URI:x"). */
function altNames(text: string | undefined, prefix: string): string[] {
  if (!text) return [];
  return text
    .split(/,\s*/)
    .filter((n) => n.startsWith(`${prefix}:`))
    .map((n) => n.slice(prefix.length + 1));
}

export function readCertificate(cert: string | Buffer | X509Certificate): CertificateInfo {
  const x509 = parse(cert);
  return {
    subject: x509.subject,
    issuer: x509.issuer,
    serialNumber: x509.serialNumber.toUpperCase(),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    sha1: x509.fingerprint.replaceAll(':', ''),
    sha256: x509.fingerprint256.replaceAll(':', ''),
    dnsNames: altNames(x509.subjectAltName, 'DNS'),
    ipAddresses: altNames(x509.subjectAltName, 'IP Address'),
    uris: altNames(x509.subjectAltName, 'URI'),
    isCa: x509.ca,
    publicKeyPem: x509.publicKey.export({ format: 'pem', type: 'spki' }) as string,
    x509,
  };
}

/** The certificate's thumbprint: upper-case hex of the hash of its DER form, no colons. */
export function thumbprint(
  cert: string | Buffer | X509Certificate,
  algorithm: ThumbprintAlgorithm = 'sha1',
): string {
  const x509 = parse(cert);
  return (algorithm === 'sha1' ? x509.fingerprint : x509.fingerprint256).replaceAll(':', '');
}

export type CertificateCheck =
  { ok: true } | { ok: false; reason: 'not-issued-by-ca' | 'not-yet-valid' | 'expired' };

/**
 * Whether `cert` was signed by `ca` and is valid at `at`. Pure (no clock of its own), so a test can
 * move time; the TLS layer's own check uses the wall clock and cannot.
 */
export function checkCertificate(cert: X509Certificate, ca: X509Certificate, at: Date): CertificateCheck {
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return { ok: false, reason: 'not-issued-by-ca' };
  if (at.getTime() < Date.parse(cert.validFrom)) return { ok: false, reason: 'not-yet-valid' };
  if (at.getTime() > Date.parse(cert.validTo)) return { ok: false, reason: 'expired' };
  return { ok: true };
}

/** Whether a private key (KeyObject or PEM) is the one a certificate certifies. */
export function keyMatchesCertificate(key: KeyObject | string, cert: string | X509Certificate): boolean {
  const { createPrivateKey, createPublicKey } = nodeCrypto();
  const privateKey = typeof key === 'string' ? createPrivateKey(key) : key;
  const der = (k: KeyObject) => k.export({ format: 'der', type: 'spki' });
  return der(createPublicKey(privateKey)).equals(der(parse(cert).publicKey));
}
