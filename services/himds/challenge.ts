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
import { resolve } from 'node:path';
import { AgentError, nodeCrypto, type Logger } from '../../core/index.ts';
import { createKeyFiles, type KeyFile } from './key-files.ts';
import { removeStaleKeyFiles } from './tokens-dir.ts';
import { msClock } from './clock.ts';

export const DEFAULT_CHALLENGE_TTL_MS = 60_000;
export const DEFAULT_MAX_OUTSTANDING = 4096;
const SECRET_BYTES = 32;
/** A secret as written and sent: its bytes in hex. */
const SECRET_CHARS = 2 * SECRET_BYTES;
const presented = Buffer.alloc(SECRET_CHARS);

/** Random bytes drawn 4 KiB at a time: one call into OpenSSL per 128 secrets instead of one each. */
const randomPool = { buffer: Buffer.alloc(0), used: 0 };
function newSecret(): Buffer {
  if (randomPool.used + SECRET_BYTES > randomPool.buffer.length) {
    randomPool.buffer = nodeCrypto().randomBytes(4096);
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
  file: KeyFile;
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

// Outstanding challenges are found by the first 16 hex digits (64 bits) of their secret, and the
// whole secret (256 bits) is then compared with timingSafeEqual: whatever a lookup's timing may
// tell about those 64 bits, the other 192 stay out of reach. (A selector and a verifier, as in
// split-token designs; it spares hashing every secret twice, ~4 us each.)
const LOOKUP_CHARS = 16;
const lookupKey = (secret: string) => secret.slice(0, LOOKUP_CHARS);

export function createChallengeStore(opts: ChallengeStoreOptions): ChallengeStore {
  const { log } = opts;
  // Absolute and without a trailing slash: key files are named `${dir}/<uuid>.key` (one string
  // concatenation per challenge), and msal-node compares the realm with <tokens>/<name> exactly.
  const dir = resolve(opts.dir);
  const ttlMs = opts.ttlMs ?? DEFAULT_CHALLENGE_TTL_MS;
  const maxOutstanding = opts.maxOutstanding ?? DEFAULT_MAX_OUTSTANDING;
  const nowMs = msClock(opts.now);
  const entries = new Map<string, Outstanding>();
  let sweeper: NodeJS.Timeout | undefined;

  if (dir.includes('=') || /\s/.test(dir))
    throw new AgentError(
      'ARGUMENT_INVALID',
      `tokens folder ${dir}: clients cannot read a path with '=' or spaces`,
    );

  const files = createKeyFiles({ dir, gid: opts.gid, log, now: nowMs });

  // Challenges are kept in the order they were issued, which is the order they expire in (one
  // time-to-live for all), so a sweep stops at the first one still valid: it costs what it removes,
  // not what is outstanding. (Should the clock step back, a few expire a sweep late; redeem checks
  // the time itself.) Other files in the folder (another HIMDS's, a crashed one's) are looked for
  // once per time-to-live: none can go stale sooner, and the folder may hold thousands of names.
  let staleScanAt = 0;
  const sweep = async () => {
    const at = nowMs();
    for (const [key, entry] of entries) {
      if (entry.expiresAt > at) break;
      entries.delete(key);
      files.remove(entry.file);
    }
    files.prune(ttlMs / 2);
    if (at - staleScanAt < ttlMs && at >= staleScanAt) return;
    staleScanAt = at;
    await removeStaleKeyFiles(dir, ttlMs, new Date(at), log, files.owns);
  };

  return {
    get outstanding() {
      return entries.size;
    },

    async start() {
      await files.prepare();
      await removeStaleKeyFiles(dir, ttlMs, new Date(nowMs()), log);
      staleScanAt = nowMs();
      sweeper = setInterval(() => void sweep(), Math.max(1_000, Math.min(ttlMs / 2, 10_000)));
      sweeper.unref();
    },

    async issue() {
      if (entries.size >= maxOutstanding) throw new AgentError('HIMDS_TOO_MANY_CHALLENGES');
      const secret = newSecret();
      const key = lookupKey(secret.toString('latin1', 0, LOOKUP_CHARS));
      // 64 random bits: a clash with an open challenge is practically impossible, but never overwrite one.
      if (entries.has(key)) return this.issue();
      const file = await files.write(secret);
      entries.set(key, { secret, file, expiresAt: nowMs() + ttlMs });
      return file.path;
    },

    redeem(secret) {
      const key = lookupKey(secret);
      const entry = entries.get(key);
      if (!entry) return false;
      // Every secret is SECRET_CHARS long: the presented one goes into a buffer kept for that.
      if (secret.length !== SECRET_CHARS) return false;
      presented.write(secret, 0, 'latin1');
      const match = nodeCrypto().timingSafeEqual(entry.secret, presented);
      presented.fill(0);
      if (!match) return false;
      entries.delete(key);
      if (entry.expiresAt <= nowMs()) {
        files.remove(entry.file); // expired: the name is never handed out again
        return false;
      }
      files.retire(entry.file);
      return true;
    },

    close() {
      clearInterval(sweeper);
      for (const entry of entries.values()) files.remove(entry.file);
      entries.clear();
      files.close();
    },
  };
}
