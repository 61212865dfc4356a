// Key pairs: RSA 2048 made by node:crypto (native OpenSSL), kept as KeyObjects and as PEM
// (PKCS#8 for the private key, SPKI for the public key).
import type { KeyObject } from 'node:crypto';
import { AgentError, nodeCrypto } from '../core/index.ts';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** PKCS#8 PEM. A secret: never log it. */
  privateKeyPem: string;
  /** SPKI PEM. */
  publicKeyPem: string;
}

const pems = (privateKey: KeyObject, publicKey: KeyObject): KeyPair => ({
  privateKey,
  publicKey,
  privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
  publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }) as string,
});

/** A new RSA 2048 key pair (off the event loop, in libuv's thread pool). */
export async function generateKeyPair(): Promise<KeyPair> {
  const { promisify } = await import('node:util');
  const generate = promisify(nodeCrypto().generateKeyPair);
  const { privateKey, publicKey } = await generate('rsa', { modulusLength: 2048 });
  return pems(privateKey, publicKey);
}

/** The key pair of a private key in PEM (PKCS#8 or PKCS#1). */
export function keyPairFromPem(privateKeyPem: string): KeyPair {
  let privateKey: KeyObject;
  try {
    privateKey = nodeCrypto().createPrivateKey(privateKeyPem);
  } catch (err) {
    // The message of a failed parse holds no key material; the PEM itself is never echoed.
    throw new AgentError('ARGUMENT_INVALID', 'not a PEM private key', { cause: err });
  }
  return pems(privateKey, nodeCrypto().createPublicKey(privateKey));
}

/** A public key from SPKI PEM, a certificate, or a private key (its public half). */
export function publicKeyFromPem(pem: string): KeyObject {
  try {
    return nodeCrypto().createPublicKey(pem);
  } catch (err) {
    throw new AgentError('ARGUMENT_INVALID', 'not a PEM public key', { cause: err });
  }
}
