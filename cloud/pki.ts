// The local cloud's own PKI: a CA made at first start and kept in the database (its certificate
// also in DIR/ca.pem, the profile's caFile), and a TLS server certificate for every name the
// profile uses, issued anew at each start. The CA also signs the machines' client certificates.
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { createCa, generateKeyPair, issueCertificate, readCertificate } from '../certs/index.ts';
import type { CloudStore } from './store.ts';

const CA_KEY = 'ca';
const CA_DAYS = 3650;
const SERVER_DAYS = 365;

export interface CloudPki {
  caPem: string;
  caKey: KeyObject;
  caCert: X509Certificate;
  /** TLS server key (PEM) and certificate chain (leaf, then CA). */
  serverKeyPem: string;
  serverCertPem: string;
}

/** The stored CA (made now if there is none), and a fresh server certificate for `serverNames`. */
export async function loadPki(
  store: CloudStore,
  opts: { serverNames: string[]; ipAddresses: string[]; now: Date },
): Promise<CloudPki> {
  let stored = store.getKey(CA_KEY);
  if (!stored?.certificatePem) {
    const ca = await createCa('Arc Local Cloud CA', CA_DAYS, { now: opts.now });
    store.putKey(CA_KEY, ca.keyPem, ca.certPem, opts.now.toISOString());
    stored = { privateKeyPem: ca.keyPem, certificatePem: ca.certPem };
  }
  const caPem = stored.certificatePem!;
  const caKey = createPrivateKey(stored.privateKeyPem);
  const serverKeys = await generateKeyPair();
  const leaf = await issueCertificate({
    ca: caPem,
    caKey,
    subjectPublicKey: serverKeys.publicKey,
    subject: `CN=${opts.serverNames[0] ?? 'localhost'}`,
    days: SERVER_DAYS,
    now: opts.now,
    serverNames: opts.serverNames,
    ipAddresses: opts.ipAddresses,
    serverAuth: true,
  });
  return {
    caPem,
    caKey,
    caCert: readCertificate(caPem).x509,
    serverKeyPem: serverKeys.privateKeyPem,
    serverCertPem: leaf + caPem,
  };
}
