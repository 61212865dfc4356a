// The machine identity on disk: key, certificate and the cloud's CA under <home>/certs/ (0700,
// files 0600, atomic writes), plus when the cloud wants it renewed.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, type HomeLayout } from '../../core/index.ts';
import type { IdentityStore, MachineIdentity } from './heartbeat.ts';

const files = (home: HomeLayout) => ({
  key: join(home.certs, 'machine.key'),
  cert: join(home.certs, 'machine.pem'),
  ca: join(home.certs, 'cloud-ca.pem'),
  meta: join(home.certs, 'machine.json'),
});

export interface SavedIdentity extends MachineIdentity {
  caPem?: string | undefined;
}

export async function saveMachineIdentity(home: HomeLayout, id: SavedIdentity): Promise<void> {
  const f = files(home);
  await mkdir(home.certs, { recursive: true, mode: 0o700 });
  await writeFileAtomic(f.key, id.keyPem, 0o600);
  await writeFileAtomic(f.cert, id.certPem, 0o600);
  if (id.caPem) await writeFileAtomic(f.ca, id.caPem, 0o600);
  await writeFileAtomic(f.meta, JSON.stringify({ renewAfter: id.renewAfter, notAfter: id.notAfter }), 0o600);
}

export async function loadMachineIdentity(home: HomeLayout): Promise<SavedIdentity | undefined> {
  const f = files(home);
  try {
    const [keyPem, certPem, meta] = await Promise.all([
      readFile(f.key, 'utf8'),
      readFile(f.cert, 'utf8'),
      readFile(f.meta, 'utf8').then(
        (t) => JSON.parse(t) as { renewAfter?: string; notAfter?: string },
        (): { renewAfter?: string; notAfter?: string } => ({}),
      ),
    ]);
    const caPem = await readFile(f.ca, 'utf8').catch(() => undefined);
    return { keyPem, certPem, caPem, renewAfter: meta.renewAfter, notAfter: meta.notAfter };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function removeMachineIdentity(home: HomeLayout): Promise<void> {
  await Promise.all(Object.values(files(home)).map((f) => rm(f, { force: true })));
}

export const identityStore = (home: HomeLayout): IdentityStore => ({
  load: () => loadMachineIdentity(home),
  save: (id) => saveMachineIdentity(home, id),
});
