// PKCS#10 certificate signing requests (RFC 2986): made by the agent to prove it holds the key,
// read and checked by the cloud before it signs.
import { AgentError, nodeCrypto } from '../core/index.ts';
import type { KeyPair } from './keys.ts';
import { loadX509, pemText, SIGNING_ALGORITHM, signingKey, verifyingKey } from './x509.ts';

/** A CSR in PEM for `keys`, signed with its private key. `subject` is an X.500 name, e.g. `CN=host1`. */
export async function createCsr(keys: KeyPair, subject: string): Promise<string> {
  const x509 = await loadX509();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys: { privateKey: await signingKey(keys.privateKey), publicKey: await verifyingKey(keys.publicKey) },
    signingAlgorithm: SIGNING_ALGORITHM,
  });
  return pemText(csr.toString('pem'));
}

export interface CsrInfo {
  subject: string;
  /** SPKI PEM of the key the request is for. */
  publicKeyPem: string;
}

/** Reads a CSR and checks its self-signature (proof of possession); throws ARGUMENT_INVALID if either fails. */
export async function readCsr(pem: string): Promise<CsrInfo> {
  const x509 = await loadX509();
  let csr: InstanceType<typeof x509.Pkcs10CertificateRequest>;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch (err) {
    throw new AgentError('ARGUMENT_INVALID', 'not a PEM PKCS#10 certificate request', { cause: err });
  }
  if (!(await csr.verify().catch(() => false)))
    throw new AgentError('ARGUMENT_INVALID', 'the certificate request is not signed by its own key');
  const { createPublicKey } = nodeCrypto();
  const publicKeyPem = createPublicKey({
    key: Buffer.from(csr.publicKey.rawData),
    format: 'der',
    type: 'spki',
  }).export({ format: 'pem', type: 'spki' }) as string;
  return { subject: csr.subject, publicKeyPem };
}
