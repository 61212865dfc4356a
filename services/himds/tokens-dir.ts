// The folder of key-file challenges, <home>/tokens: mode 0750 and group `himds` where that group
// exists, so that root and members of `himds` can read a challenge and nobody else can (the real
// agent's security model: ../shared/reference/himds-identity.md section 1.1). Clients insist on
// /var/opt/azcmagent/tokens, the default home's; a test or a demo home has its own.
import { chmod, chown, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import type { Logger } from '../../core/index.ts';

export const HIMDS_GROUP = 'himds';
export const DIR_MODE = 0o750;
export const KEY_FILE_MODE = 0o640;
/** Challenge files are <uuid>.key (spares for reuse too); <uuid>.used are earlier versions' spares. Nothing else is ours. */
export const KEY_FILE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.(key|used)$/;

/** The numeric id of group `name` in /etc/group text (group(5)), or undefined when there is none. */
export function groupIdFrom(groupFileText: string, name: string): number | undefined {
  for (const line of groupFileText.split('\n')) {
    const [group, , gid] = line.split(':');
    if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

export async function lookupGroupId(name: string, groupFile = '/etc/group'): Promise<number | undefined> {
  const text = await readFile(groupFile, 'utf8').catch(() => '');
  return groupIdFrom(text, name);
}

/**
 * Creates the folder (0750, group `gid` when given) or puts an existing one right. A chown that is
 * not permitted (HIMDS not root and not in the group) leaves the group as it is, with a warning:
 * the folder then serves its owner only, which is safe. Resolves with the group that files should
 * get: `gid`, or undefined when it could not be applied.
 */
export async function prepareTokensDir(
  dir: string,
  gid: number | undefined,
  log: Logger,
): Promise<number | undefined> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await chmod(dir, DIR_MODE);
  if (gid === undefined) return undefined;
  try {
    await chown(dir, -1, gid);
    return gid;
  } catch (err) {
    log.warn(
      { dir, gid, err: (err as Error).message },
      `the tokens folder cannot be given to group ${HIMDS_GROUP}; only its owner can answer challenges`,
    );
    return undefined;
  }
}

/**
 * Removes challenge files older than `maxAgeMs`: a challenge that old cannot be answered any more,
 * whoever wrote it (an earlier run of HIMDS, or one that crashed). Younger ones are left alone, so
 * that another HIMDS on the same folder (tests on the real default path) keeps its challenges.
 */
export async function removeStaleKeyFiles(
  dir: string,
  maxAgeMs: number,
  now: Date,
  log: Logger,
  /** Paths the caller is using (its open challenges and spares): not even looked at. */
  skip: (path: string) => boolean = () => false,
): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names.filter((n) => KEY_FILE.test(n))) {
    const path = `${dir}/${name}`; // as key-files.ts spells them, for `skip`
    if (skip(path)) continue;
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile() || now.getTime() - info.mtimeMs < maxAgeMs) continue;
    await rm(path, { force: true }).then(
      () => removed++,
      (err: Error) => log.warn({ path, err: err.message }, 'stale challenge file not removed'),
    );
  }
  if (removed > 0) log.info({ dir, removed }, 'stale challenge files removed');
  return removed;
}
