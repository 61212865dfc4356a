// A certificate authority and the certificates it issues: the local cloud's CA (self-signed), its
// TLS server certificate, and machine certificates from a public key or a CSR. Profile as in
// RFC 5280 section 4.2: CA with basicConstraints cA (critical) and keyCertSign; leaves with
// digitalSignature + keyEncipherment, the extended key usages asked for, SANs, and key identifiers.
import type { KeyObject } from 'node:crypto';
import { AgentError, nodeCrypto } from '../core/index.ts';
import { readCsr } from './csr.ts';
import { generateKeyPair, type KeyPair } from './keys.ts';
import { commonName, loadX509, pemText, SIGNING_ALGORITHM, signingKey, verifyingKey } from './x509.ts';

const DAY_MS = 86_400_000;
/** Certificates start a little in the past, so that a peer whose clock is slightly behind accepts them. */
const BACKDATE_MS = 5 * 60_000;

/** A positive 127-bit serial (RFC 5280 section 4.1.2.2: positive, at most 20 octets, unique per CA). */
function serialNumber(): string {
  const bytes = nodeCrypto().randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function validity(now: Date, days: number): { notBefore: Date; notAfter: Date } {
  if (!(days > 0)) throw new AgentError('ARGUMENT_INVALID', `certificate lifetime ${days} days`);
  return {
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
  };
}

export interface CertificateAuthority {
  /** The CA certificate, PEM. */
  certPem: string;
  /** The CA's private key, PKCS#8 PEM. A secret: never log it. */
  keyPem: string;
  privateKey: KeyObject;
}

/** A self-signed CA named `CN=<name>`, valid for `days`. */
export async function createCa(
  name: string,
  days: number,
  options: { now?: Date; keys?: KeyPair } = {},
): Promise<CertificateAuthority> {
  const x509 = await loadX509();
  const keys = options.keys ?? (await generateKeyPair());
  const publicKey = await verifyingKey(keys.publicKey);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: commonName(name),
    ...validity(options.now ?? new Date(), days),
    keys: { privateKey: await signingKey(keys.privateKey), publicKey },
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
    ],
  });
  return { certPem: pemText(cert.toString('pem')), keyPem: keys.privateKeyPem, privateKey: keys.privateKey };
}

export interface IssueCertificateOptions {
  /** The issuing CA's certificate, PEM. */
  ca: string;
  /** The issuing CA's private key (KeyObject or PEM). */
  caKey: KeyObject | string;
  /** The key to certify: a public key (KeyObject or SPKI PEM)... */
  subjectPublicKey?: KeyObject | string;
  /** ...or a PKCS#10 request in PEM, whose signature is checked; its subject and extensions are ignored. */
  csr?: string;
  /** X.500 name of the subject, e.g. `CN=host1` (see commonName()). */
  subject: string;
  days: number;
  /** Issue time (default: now); the certificate is valid from 5 minutes before it. */
  now?: Date;
  /** DNS names for the subjectAltName (server certificates). */
  serverNames?: string[];
  ipAddresses?: string[];
  /** URIs for the subjectAltName, e.g. the machine's resource id. */
  uris?: string[];
  serverAuth?: boolean;
  clientAuth?: boolean;
}

async function subjectKey(opts: IssueCertificateOptions): Promise<KeyObject> {
  const { createPublicKey } = nodeCrypto();
  if ((opts.csr === undefined) === (opts.subjectPublicKey === undefined))
    throw new AgentError('ARGUMENT_INVALID', 'give exactly one of subjectPublicKey and csr');
  if (opts.csr !== undefined) return createPublicKey((await readCsr(opts.csr)).publicKeyPem);
  const key = opts.subjectPublicKey!;
  if (typeof key !== 'string') return key.type === 'private' ? createPublicKey(key) : key;
  try {
    return createPublicKey(key);
  } catch (err) {
    throw new AgentError('ARGUMENT_INVALID', 'subjectPublicKey is not a PEM public key', { cause: err });
  }
}

/** Signs a leaf certificate for a public key or CSR with the CA's key; returns it in PEM. */
export async function issueCertificate(opts: IssueCertificateOptions): Promise<string> {
  const x509 = await loadX509();
  const { createPrivateKey, createPublicKey, X509Certificate } = nodeCrypto();
  const caKey = typeof opts.caKey === 'string' ? createPrivateKey(opts.caKey) : opts.caKey;
  const caCert = new x509.X509Certificate(opts.ca);
  const key = await subjectKey(opts);
  const spki = key.export({ format: 'der', type: 'spki' });
  const names = [
    ...(opts.serverNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(opts.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  const usages = [
    ...(opts.serverAuth ? [x509.ExtendedKeyUsage.serverAuth] : []),
    ...(opts.clientAuth ? [x509.ExtendedKeyUsage.clientAuth] : []),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: opts.subject,
    issuer: caCert.subject,
    ...validity(opts.now ?? new Date(), opts.days),
    publicKey: spki,
    signingKey: await signingKey(caKey),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      ...(usages.length > 0 ? [new x509.ExtendedKeyUsageExtension(usages)] : []),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      await x509.SubjectKeyIdentifierExtension.create(spki),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  const pem = pemText(cert.toString('pem'));
  // Belt and braces: what we hand out must verify with node:crypto against the CA we named.
  if (!new X509Certificate(pem).verify(createPublicKey(caKey)))
    throw new AgentError('INTERNAL', 'the issued certificate does not verify with the CA key');
  return pem;
}
