// Key pairs, CSRs, certificate authorities and issued certificates, thumbprints, and the agent's
// certificate store. Shared by the agent and the local cloud; other folders import from here only.
export { generateKeyPair, keyPairFromPem, publicKeyFromPem, type KeyPair } from './keys.ts';
export { createCsr, readCsr, type CsrInfo } from './csr.ts';
export {
  createCa,
  issueCertificate,
  type CertificateAuthority,
  type IssueCertificateOptions,
} from './authority.ts';
export {
  checkCertificate,
  keyMatchesCertificate,
  readCertificate,
  splitPemBundle,
  thumbprint,
  type CertificateCheck,
  type CertificateInfo,
  type ThumbprintAlgorithm,
} from './read.ts';
export { certStore, type CertStore, type MachineIdentity, type StoredIdentity } from './store.ts';
export { commonName } from './x509.ts';
export { DEFAULT_RENEW_DAYS, renewalDue } from './renewal.ts';
