// The configuration lock: one writer of localconfig.json at a time, so that concurrent
// read-modify-writes (two `azcmagent config set ... --add`) never lose each other's change.
//
// The lock is a file beside the configuration, `<file>.lock`, created with O_EXCL and holding the
// owner's PID, host and a random token. A waiter polls with jittered backoff; it gives up when one
// holder keeps the lock for `waitMs`, or after `maxWaitMs` however often the lock changes hands. A lock is
// stale when its owner is gone (same host, PID no longer alive) or when it is older than `staleMs`
// (the owner hangs, or the PID was reused); a stale lock is removed under a second lock,
// `<file>.lock.break`, so that two waiters never both remove it and then delete each other's new
// lock. Owners hold the lock for one read and one atomic write, milliseconds, so staleMs is generous.
import { open, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { AgentError } from './errors.ts';
import { parseLocalConfig, readLocalConfigEntries, writeLocalConfig, type LocalConfig } from './config.ts';
import { nodeCrypto } from './node-crypto.ts';

export interface LockOptions {
  /** How long to wait while one other live process keeps the lock. */
  waitMs?: number;
  /** How long to wait at most, however often the lock changes hands. */
  maxWaitMs?: number;
  /** A lock older than this is stale whatever its PID says. */
  staleMs?: number;
  /** Told when a stale lock is removed, so the removal is never silent. */
  onStale?: (info: StaleLock) => void;
  now?: () => number;
  isAlive?: (pid: number) => boolean;
}

export interface StaleLock {
  path: string;
  pid: number | undefined;
  reason: string;
}

export const LOCK_WAIT_MS = 10_000;
export const LOCK_MAX_WAIT_MS = 120_000;
export const LOCK_STALE_MS = 30_000;
/** The breaker is held for one stat and one unlink; one older than this was left by a crash. */
const BREAKER_STALE_MS = 5_000;

interface Holder {
  pid: number | undefined;
  host: string | undefined;
  ageMs: number;
  ino: number;
  text: string;
}

/** The PID is alive if signal 0 reaches it, or if it exists but belongs to another user (EPERM). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` while holding `<path>.lock`; the lock is released however `fn` ends. */
export async function withConfigLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const release = await acquire(`${path}.lock`, options);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/**
 * The one way to change localconfig.json: under the lock, read what the file holds (canonical keys,
 * unchecked), let `change` compute the new content, check it and write it atomically.
 */
export async function updateLocalConfig(
  path: string,
  change: (current: Record<string, unknown>) => Record<string, unknown>,
  options: LockOptions = {},
): Promise<LocalConfig> {
  return withConfigLock(
    path,
    async () => {
      const next = change(await readLocalConfigEntries(path));
      await writeLocalConfig(path, next);
      return await parseLocalConfig(next, path);
    },
    options,
  );
}

async function acquire(lockPath: string, options: LockOptions): Promise<() => Promise<void>> {
  const now = options.now ?? Date.now;
  const waitMs = options.waitMs ?? LOCK_WAIT_MS;
  const token = nodeCrypto().randomBytes(8).toString('hex');
  const text = `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date(now()).toISOString(), token })}\n`;
  const maxWaitMs = options.maxWaitMs ?? LOCK_MAX_WAIT_MS;
  const started = now();
  // The wait is bounded per holder: while the lock changes hands, writers are making progress.
  let seen = '';
  let seenSince = started;
  let delay = 5;
  for (;;) {
    if (await tryCreate(lockPath, text)) return () => release(lockPath, text);
    const holder = await inspect(lockPath, now());
    if (holder === undefined) continue; // released between our attempt and our look
    const stale = staleReason(holder, options);
    if (stale !== undefined) {
      if (await breakStale(lockPath, holder, now()))
        options.onStale?.({ path: lockPath, pid: holder.pid, reason: stale });
      continue;
    }
    const id = `${holder.ino}:${holder.text}`;
    if (id !== seen) [seen, seenSince] = [id, now()];
    const stuck = now() - seenSince >= waitMs;
    if (stuck || now() - started >= maxWaitMs) {
      const who = holder.pid === undefined ? 'another process' : `process ${holder.pid}`;
      const why = stuck
        ? `has been held by ${who} for ${Math.round(holder.ageMs / 1000)} s`
        : `was taken by other processes for all of ${Math.round(maxWaitMs / 1000)} s; last by ${who}`;
      throw new AgentError('CONFIG_LOCKED', `${lockPath} ${why}`);
    }
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 100);
  }
}

/** True when this process now holds the lock; false when someone else does. */
async function tryCreate(lockPath: string, text: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(lockPath, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new AgentError(
      'CONFIG_WRITE_FAILED',
      `cannot create the lock ${lockPath}: ${(err as Error).message}`,
      {
        cause: err,
        action: 'run as root, or as the owner of the agent home folder',
      },
    );
  }
  try {
    await fh.writeFile(text);
  } catch (err) {
    await fh.close();
    await rm(lockPath, { force: true });
    throw new AgentError(
      'CONFIG_WRITE_FAILED',
      `cannot write the lock ${lockPath}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  await fh.close();
  return true;
}

/** Who holds the lock, or undefined when it is gone. An owner may not have written its PID yet. */
async function inspect(lockPath: string, now: number): Promise<Holder | undefined> {
  try {
    const [st, text] = await Promise.all([stat(lockPath), readFile(lockPath, 'utf8')]);
    let pid: number | undefined;
    let host: string | undefined;
    try {
      const parsed = JSON.parse(text) as { pid?: unknown; host?: unknown };
      if (Number.isInteger(parsed.pid) && (parsed.pid as number) > 0) pid = parsed.pid as number;
      if (typeof parsed.host === 'string') host = parsed.host;
    } catch {
      // half-written or foreign content: only its age can tell
    }
    return { pid, host, ageMs: Math.max(0, now - st.mtimeMs), ino: st.ino, text };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AgentError('CONFIG_LOCKED', `cannot read the lock ${lockPath}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function staleReason(holder: Holder, options: LockOptions): string | undefined {
  const staleMs = options.staleMs ?? LOCK_STALE_MS;
  const isAlive = options.isAlive ?? processAlive;
  if (holder.pid !== undefined && holder.host === hostname() && !isAlive(holder.pid)) {
    return `process ${holder.pid} that held it is gone`;
  }
  if (holder.ageMs > staleMs) return `it is ${Math.round(holder.ageMs / 1000)} s old`;
  return undefined;
}

/** Removes the stale lock we looked at, and only that one; true when this process removed it. */
async function breakStale(lockPath: string, holder: Holder, now: number): Promise<boolean> {
  const breaker = `${lockPath}.break`;
  if (!(await tryCreate(breaker, `${process.pid}\n`))) {
    const other = await stat(breaker).catch(() => undefined);
    if (other && now - other.mtimeMs > BREAKER_STALE_MS) await rm(breaker, { force: true });
    else await sleep(5);
    return false;
  }
  try {
    const again = await inspect(lockPath, now);
    if (again === undefined || again.ino !== holder.ino || again.text !== holder.text) return false;
    await rm(lockPath, { force: true });
    return true;
  } finally {
    await rm(breaker, { force: true });
  }
}

/** Removes the lock if it is still ours; one that was broken as stale and retaken is left alone. */
async function release(lockPath: string, text: string): Promise<void> {
  const current = await readFile(lockPath, 'utf8').catch(() => undefined);
  if (current === text) await rm(lockPath, { force: true });
}
