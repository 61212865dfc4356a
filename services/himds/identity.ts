// The machine identity on disk, as HIMDS and the heartbeat use it: the certificate store of certs/
// (<home>/certs/, 0700, files 0600, atomic writes, key and certificate checked to match).
import { certStore } from '../../certs/index.ts';
import type { HomeLayout } from '../../core/index.ts';
import type { IdentityStore, MachineIdentity } from './heartbeat.ts';

export type SavedIdentity = MachineIdentity;

export const saveMachineIdentity = (home: HomeLayout, id: SavedIdentity): Promise<void> =>
  certStore(home).saveMachineIdentity(id);

export const loadMachineIdentity = (home: HomeLayout): Promise<SavedIdentity | undefined> =>
  certStore(home).loadMachineIdentity();

export const removeMachineIdentity = (home: HomeLayout): Promise<void> =>
  certStore(home).removeMachineIdentity();

export const identityStore = (home: HomeLayout): IdentityStore => ({
  load: () => loadMachineIdentity(home),
  save: (id) => saveMachineIdentity(home, id),
});
