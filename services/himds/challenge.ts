// The key-file challenge (../shared/reference/himds-identity.md section 1.1): a token request
// without Authorization gets 401 and `WWW-Authenticate: Basic realm=<tokens>/<uuid>.key`; HIMDS has
// just written a random secret into that file, which only root and the `himds` group can read.
// Sending the file's contents back as `Authorization: Basic <secret>` proves that privilege.
// A secret works once, for a short time (60 s by default), and is compared in constant time.
//
//   client                         HIMDS                              <tokens>/<uuid>.key
//     | GET ...token (no Authorization) |                                      |
//     |-------------------------------->| write secret (0640, group himds) ---->|
//     |<-- 401 WWW-Authenticate: Basic realm=<path>                            |
//     | read <path> --------------------------------------------------------->|
//     | GET ...token, Authorization: Basic <secret>                             |
//     |-------------------------------->| redeem: constant-time compare, forget, retire the file
//     |<-- 200 token                    |                                      |
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AgentError, type Logger } from '../../core/index.ts';
import { createKeyFiles } from './key-files.ts';
import { removeStaleKeyFiles } from './tokens-dir.ts';

export const DEFAULT_CHALLENGE_TTL_MS = 60_000;
export const DEFAULT_MAX_OUTSTANDING = 4096;
const SECRET_BYTES = 32;

/** Random bytes drawn 4 KiB at a time: one call into OpenSSL per 128 secrets instead of one each. */
const randomPool = { buffer: Buffer.alloc(0), used: 0 };
function newSecret(): Buffer {
  if (randomPool.used + SECRET_BYTES > randomPool.buffer.length) {
    randomPool.buffer = randomBytes(4096);
    randomPool.used = 0;
  }
  const bytes = randomPool.buffer.subarray(randomPool.used, (randomPool.used += SECRET_BYTES));
  const secret = Buffer.from(bytes.toString('hex'));
  bytes.fill(0); // drawn bytes are not kept around
  return secret;
}

/** The header value, with exactly one `=` as every client splits on it (reference section 1.2). */
export const realmHeader = (path: string): string => `Basic realm=${path}`;

/** The secret of `Authorization: Basic <secret>` (scheme case-insensitive, RFC 9110 section 11.1). */
export function basicCredentials(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^\s*Basic\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

export interface ChallengeStoreOptions {
  /** The tokens folder: <home>/tokens. */
  dir: string;
  /** Group that may read challenges (`himds`), when it exists. */
  gid?: number | undefined;
  log: Logger;
  ttlMs?: number;
  /** Unanswered challenges allowed at once; more get 429, so a flood cannot fill the disk. */
  maxOutstanding?: number;
  now?: () => Date;
}

interface Outstanding {
  secret: Buffer;
  path: string;
  expiresAt: number;
}

export interface ChallengeStore {
  /** Prepares the folder and removes stale challenge files; then sweeps expired ones periodically. */
  start(): Promise<void>;
  /** Writes a new challenge file; resolves with its path. */
  issue(): Promise<string>;
  /** True when `secret` answers an unexpired challenge, which is then used up. */
  redeem(secret: string): boolean;
  readonly outstanding: number;
  /** Stops sweeping and removes the files of unanswered challenges. */
  close(): void;
}

// Outstanding challenges are found by the SHA-256 of their secret, so the lookup's timing depends
// on a hash the caller cannot steer, not on the secret; the match itself is timingSafeEqual.
const digest = (secret: Buffer) => createHash('sha256').update(secret).digest('base64');

export function createChallengeStore(opts: ChallengeStoreOptions): ChallengeStore {
  const { dir, log } = opts;
  const ttlMs = opts.ttlMs ?? DEFAULT_CHALLENGE_TTL_MS;
  const maxOutstanding = opts.maxOutstanding ?? DEFAULT_MAX_OUTSTANDING;
  const now = opts.now ?? (() => new Date());
  const entries = new Map<string, Outstanding>();
  let sweeper: NodeJS.Timeout | undefined;

  if (dir.includes('=') || /\s/.test(dir))
    throw new AgentError(
      'ARGUMENT_INVALID',
      `tokens folder ${dir}: clients cannot read a path with '=' or spaces`,
    );

  const files = createKeyFiles({ dir, gid: opts.gid, log, now });

  const sweep = async () => {
    const at = now().getTime();
    for (const [key, entry] of entries) {
      if (entry.expiresAt > at) continue;
      entries.delete(key);
      files.remove(entry.path);
    }
    files.prune(ttlMs);
    await removeStaleKeyFiles(dir, ttlMs, now(), log);
  };

  return {
    get outstanding() {
      return entries.size;
    },

    async start() {
      await files.prepare();
      await removeStaleKeyFiles(dir, ttlMs, now(), log);
      sweeper = setInterval(() => void sweep(), Math.max(1_000, Math.min(ttlMs / 2, 10_000)));
      sweeper.unref();
    },

    async issue() {
      if (entries.size >= maxOutstanding) throw new AgentError('HIMDS_TOO_MANY_CHALLENGES');
      const secret = newSecret();
      const path = await files.write(secret);
      entries.set(digest(secret), { secret, path, expiresAt: now().getTime() + ttlMs });
      return path;
    },

    redeem(secret) {
      const presented = Buffer.from(secret);
      const key = digest(presented);
      const entry = entries.get(key);
      if (!entry || entry.secret.length !== presented.length || !timingSafeEqual(entry.secret, presented))
        return false;
      entries.delete(key);
      files.retire(entry.path);
      return entry.expiresAt > now().getTime();
    },

    close() {
      clearInterval(sweeper);
      for (const entry of entries.values()) files.remove(entry.path);
      entries.clear();
      files.close();
    },
  };
}
