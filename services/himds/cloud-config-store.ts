// Changes to cloudconfig.json by the agent itself (connect, the heartbeat, disconnect): one at a
// time under `cloudconfig.json.lock` (core/config-lock.ts), so that a heartbeat's read-compare-write
// never undoes a disconnect or a connect that ran meanwhile; writes are atomic, so the Arc Proxy
// that watches the file sees the old content or the new, never half.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import {
  readAgentState,
  readCloudConfig,
  withConfigLock,
  writeCloudConfig,
  writeFileAtomic,
  type CloudConfig,
  type HomeLayout,
} from '../../core/index.ts';
import type { CloudConfigChange } from './gateway-pickup.ts';

/**
 * Reads cloudconfig.json (undefined when unreadable), lets `decide` choose, and writes what it
 * chose. With `forResourceId`, only while agentconfig.json still names that machine: a heartbeat
 * in flight during a disconnect must not leave a gateway behind.
 */
export function changeCloudConfig(
  home: HomeLayout,
  forResourceId: string | undefined,
  decide: (current: CloudConfig | undefined) => CloudConfigChange,
): Promise<CloudConfigChange> {
  return withConfigLock(home.cloudConfig, async () => {
    if (forResourceId !== undefined) {
      const state = await readAgentState(home.agentConfig).catch(() => undefined);
      if (state?.resourceId !== forResourceId) return { write: false };
    }
    const current = await readCloudConfig(home.cloudConfig).catch(() => undefined);
    const change = decide(current);
    if (change.write) await writeCloudConfig(home.cloudConfig, change.next);
    return change;
  });
}

/** Writes `config` as it is (connect: the provisional gateway, then the cloud's answer). */
export const putCloudConfig = (home: HomeLayout, config: CloudConfig): Promise<void> =>
  withConfigLock(home.cloudConfig, () => writeCloudConfig(home.cloudConfig, config));

/** The file's bytes now (undefined: none), so that a failed connect can put them back. */
export const snapshotCloudConfig = (home: HomeLayout): Promise<string | undefined> =>
  readFile(home.cloudConfig, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });

/** Puts back what snapshotCloudConfig saw: the bytes, or no file. */
export async function restoreCloudConfig(home: HomeLayout, snapshot: string | undefined): Promise<void> {
  // Nothing to remove: no lock either (the home folder itself may not exist, disconnect -f).
  if (snapshot === undefined && !existsSync(home.cloudConfig)) return;
  await withConfigLock(home.cloudConfig, () =>
    snapshot === undefined
      ? rm(home.cloudConfig, { force: true })
      : writeFileAtomic(home.cloudConfig, snapshot, 0o644),
  );
}

/** disconnect: no machine, no gateway. */
export const removeCloudConfig = (home: HomeLayout): Promise<void> => restoreCloudConfig(home, undefined);
