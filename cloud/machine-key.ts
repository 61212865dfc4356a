// Which keys the cloud certifies for a machine: exactly one of a public key (SPKI PEM) and a CSR
// (whose self-signature proves possession), RSA of 2048 bits or more, or EC P-256/P-384.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readCsr } from '../certs/index.ts';
import { isAgentError } from '../core/index.ts';
import { CloudError } from './errors.ts';

/** The key to certify, from exactly one of a public key and a CSR: RSA of 2048 bits or more, or EC P-256/P-384. */
export async function keyToCertify(body: {
  publicKey?: string | undefined;
  csr?: string | undefined;
}): Promise<KeyObject> {
  if ((body.publicKey === undefined) === (body.csr === undefined))
    throw new CloudError(
      'InvalidRequestContent',
      'Give exactly one of publicKey (SPKI PEM) and csr (PKCS#10 PEM).',
    );
  let key: KeyObject;
  if (body.csr !== undefined) {
    try {
      key = createPublicKey((await readCsr(body.csr)).publicKeyPem);
    } catch (err) {
      throw new CloudError(
        'InvalidCertificateRequest',
        isAgentError(err) ? err.message : 'The csr is not a PEM PKCS#10 request.',
      );
    }
  } else {
    try {
      key = createPublicKey(body.publicKey!);
    } catch {
      throw new CloudError('InvalidPublicKey', 'The publicKey is not a PEM public key (SPKI).');
    }
  }
  if (key.type !== 'public')
    throw new CloudError(
      'InvalidPublicKey',
      'Send the public key only; the private key never leaves the machine.',
    );
  const d = key.asymmetricKeyDetails ?? {};
  const ok =
    (key.asymmetricKeyType === 'rsa' && (d.modulusLength ?? 0) >= 2048) ||
    (key.asymmetricKeyType === 'ec' && ['prime256v1', 'secp384r1'].includes(d.namedCurve ?? ''));
  if (!ok)
    throw new CloudError(
      'InvalidPublicKey',
      'The key must be RSA of 2048 bits or more, or EC P-256 or P-384.',
    );
  return key;
}
