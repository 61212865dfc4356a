// @peculiar/x509, loaded on first use: building certificates and requests is rare (connect, renewal,
// the local cloud's start), and the library costs memory at load. It needs a Reflect metadata
// polyfill before it loads (its tsyringe dependency throws without one), hence reflect-metadata first.
import type * as X509 from '@peculiar/x509';
import type { KeyObject, webcrypto } from 'node:crypto';
import { AgentError, cjsExports, nodeCrypto } from '../core/index.ts';

export type X509Module = typeof X509;

let loaded: Promise<X509Module> | undefined;

export function loadX509(): Promise<X509Module> {
  loaded ??= import('reflect-metadata').then(async () => cjsExports(await import('@peculiar/x509')));
  return loaded;
}

/** The one signature scheme we sign with: RSA PKCS#1 v1.5 with SHA-256 (what Azure's certificates use). */
export const SIGNING_ALGORITHM = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

/** A node:crypto RSA private key as a WebCrypto signing key, for the builders. */
export async function signingKey(key: KeyObject): Promise<webcrypto.CryptoKey> {
  if (key.type !== 'private' || key.asymmetricKeyType !== 'rsa')
    throw new AgentError('ARGUMENT_INVALID', 'signing needs an RSA private key');
  const der = key.export({ format: 'der', type: 'pkcs8' });
  return nodeCrypto().webcrypto.subtle.importKey('pkcs8', der, SIGNING_ALGORITHM, false, ['sign']);
}

/** The WebCrypto form of a node:crypto RSA public key (what a CSR carries). */
export async function verifyingKey(key: KeyObject): Promise<webcrypto.CryptoKey> {
  if (key.asymmetricKeyType !== 'rsa') throw new AgentError('ARGUMENT_INVALID', 'expected an RSA key');
  const der = key.export({ format: 'der', type: 'spki' });
  return nodeCrypto().webcrypto.subtle.importKey('spki', der, SIGNING_ALGORITHM, true, ['verify']);
}

/** An X.500 name string with one common name, escaped as RFC 4514 section 2.4 requires. */
export function commonName(cn: string): string {
  const escaped = cn
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');
  return `CN=${escaped}`;
}

/** PEM text as files and bundles want it: ending in a newline, so that PEMs concatenate. */
export const pemText = (pem: string): string => (pem.endsWith('\n') ? pem : `${pem}\n`);
