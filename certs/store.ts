// The agent's certificate store: <home>/certs/ (0700) holding the machine's private key, its
// certificate, the cloud's CA and when to renew (files 0600, each written atomically). The files
// are written key first, certificate after; a crash between the two leaves a pair that does not
// match, which load() reports instead of using.
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError, writeFileAtomic } from '../core/index.ts';
import { keyMatchesCertificate, readCertificate } from './read.ts';

export interface MachineIdentity {
  /** PKCS#8 PEM. A secret: never log it. */
  keyPem: string;
  certPem: string;
  /** The cloud's CA (PEM), the root the machine certificate chains to. */
  caPem: string;
  /** When the cloud wants the certificate renewed (ISO-8601), as it said at issue. */
  renewAfter?: string | undefined;
}

export interface StoredIdentity extends MachineIdentity {
  /** The certificate's expiry (ISO-8601), read from the certificate. */
  notAfter: string;
  /** SHA-1 thumbprint of the certificate. */
  thumbprint: string;
}

export interface CertStore {
  readonly dir: string;
  readonly paths: { key: string; cert: string; ca: string; meta: string };
  saveMachineIdentity(identity: MachineIdentity): Promise<void>;
  /** The stored identity, or undefined when there is none. */
  loadMachineIdentity(): Promise<StoredIdentity | undefined>;
  removeMachineIdentity(): Promise<void>;
}

const readOptional = (path: string): Promise<string | undefined> =>
  readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new AgentError('CONFIG_UNREADABLE', `${path}: ${err.message}`, { cause: err });
  });

/** The store under `<home>/certs/`; `home` is the home folder's path or its layout (core/home.ts). */
export function certStore(home: string | { certs: string }): CertStore {
  const dir = typeof home === 'string' ? join(home, 'certs') : home.certs;
  const paths = {
    key: join(dir, 'machine.key'),
    cert: join(dir, 'machine.pem'),
    ca: join(dir, 'cloud-ca.pem'),
    meta: join(dir, 'machine.json'),
  };

  const write = async (path: string, data: string) => {
    try {
      await writeFileAtomic(path, data, 0o600);
    } catch (err) {
      throw new AgentError('CONFIG_WRITE_FAILED', `${path}: ${(err as Error).message}`, { cause: err });
    }
  };

  return {
    dir,
    paths,
    async saveMachineIdentity({ keyPem, certPem, caPem, renewAfter }) {
      if (!keyMatchesCertificate(keyPem, certPem))
        throw new AgentError('ARGUMENT_INVALID', 'the machine certificate is not for the machine key');
      const { notAfter } = readCertificate(certPem);
      try {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        await chmod(dir, 0o700);
      } catch (err) {
        throw new AgentError('CONFIG_WRITE_FAILED', `${dir}: ${(err as Error).message}`, { cause: err });
      }
      await write(paths.key, keyPem);
      await write(paths.cert, certPem);
      await write(paths.ca, caPem);
      await write(
        paths.meta,
        `${JSON.stringify({ notAfter: notAfter.toISOString(), ...(renewAfter ? { renewAfter } : {}) }, null, 2)}\n`,
      );
    },

    async loadMachineIdentity() {
      const [keyPem, certPem, caPem, meta] = await Promise.all(
        [paths.key, paths.cert, paths.ca, paths.meta].map(readOptional),
      );
      if (keyPem === undefined && certPem === undefined) return undefined;
      if (keyPem === undefined || certPem === undefined || caPem === undefined) {
        throw new AgentError('CONFIG_UNREADABLE', `${dir}: the machine identity is incomplete`, {
          action: 'reconnect: azcmagent disconnect --force-local-only, then azcmagent connect',
        });
      }
      let matches: boolean;
      try {
        matches = keyMatchesCertificate(keyPem, certPem);
      } catch (err) {
        throw new AgentError('CONFIG_UNREADABLE', `${dir}: the machine key or certificate cannot be read`, {
          cause: err,
        });
      }
      if (!matches)
        throw new AgentError('CONFIG_UNREADABLE', `${paths.cert} does not belong to ${paths.key}`, {
          action: 'reconnect: azcmagent disconnect --force-local-only, then azcmagent connect',
        });
      const info = readCertificate(certPem);
      let renewAfter: string | undefined;
      try {
        renewAfter = meta ? (JSON.parse(meta) as { renewAfter?: string }).renewAfter : undefined;
      } catch {
        renewAfter = undefined; // advisory only: the heartbeat answer says it again
      }
      return {
        keyPem,
        certPem,
        caPem,
        renewAfter,
        notAfter: info.notAfter.toISOString(),
        thumbprint: info.sha1,
      };
    },

    async removeMachineIdentity() {
      await Promise.all(Object.values(paths).map((p) => rm(p, { force: true })));
    },
  };
}
