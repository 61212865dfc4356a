// The machine identity the gateway client presents, read from the agent's certificate store and kept
// in memory; read again when the files change (renewal, or connect while the Arc Proxy runs), so no
// tunnel waits on the disk. Before connect there is none, and tunnels go without a client certificate.
import type { Logger } from '../core/index.ts';
import { watchFile, type FileWatcher } from '../core/index.ts';
import { certStore } from '../certs/index.ts';
import type { ClientIdentity } from './tls-cache.ts';

export interface MachineIdentitySource {
  /** The identity as last read, or undefined before connect (or after disconnect). */
  current(): ClientIdentity | undefined;
  /** Resolves once the first read is done. */
  readonly ready: Promise<void>;
  close(): void;
}

/**
 * Watches `<certs>/machine.key` and `machine.pem`. The store writes the key first and the certificate
 * after; a read that catches the pair half-written fails, keeps the identity it had, and the write
 * that completes the pair triggers the read that succeeds.
 */
export function watchMachineIdentity(home: string | { certs: string }, log: Logger): MachineIdentitySource {
  const store = certStore(home);
  let identity: ClientIdentity | undefined;
  let closed = false;
  // Reads from the start and from two watchers may overlap: only the newest one started counts.
  let generation = 0;
  const load = async () => ({ mine: ++generation, stored: await store.loadMachineIdentity() });
  const apply = ({ mine, stored }: Awaited<ReturnType<typeof load>>) => {
    if (closed || mine !== generation) return;
    const before = identity?.thumbprint;
    identity = stored
      ? { certPem: stored.certPem, keyPem: stored.keyPem, thumbprint: stored.thumbprint }
      : undefined;
    if (before !== identity?.thumbprint)
      log.info(
        { thumbprint: identity?.thumbprint ?? 'none' },
        identity ? 'machine certificate loaded for the Arc gateway' : 'no machine certificate',
      );
  };
  const onError = (err: unknown) =>
    log.warn(
      { err: (err as Error).message },
      'machine certificate not read; the gateway client keeps the one it had',
    );
  const ready = load().then(apply, onError);
  const watchers: FileWatcher[] = [];
  for (const path of [store.paths.cert, store.paths.key]) {
    try {
      watchers.push(watchFile(path, load, apply, onError));
    } catch (err) {
      // No certs folder to watch (a home not made by ensureHome): what was read at start stays.
      onError(err);
    }
  }
  return {
    current: () => identity,
    ready,
    close() {
      closed = true;
      for (const w of watchers) w.close();
    },
  };
}
