// localconfig.json: the user's settings, a flat JSON object with the real agent's dotted keys plus
// ours. Validated against its typebox schema (LocalConfigSchema in schemas.ts) at the edge; everything
// below gets a typed, complete LocalConfig. Keys are matched case-insensitively, as the real agent
// does for proxy keys (1.46).
import { link, readdir, rename, rm } from 'node:fs/promises';
import { type FileWatcher, watchFile } from './watch-file.ts';
import { basename, dirname, join } from 'node:path';
import type { Static } from 'typebox';
import { AgentError } from './errors.ts';
import { localConfigProperties } from './schema-checks.generated.ts';
import { fitsSchema, schemaProblem } from './schema-check.ts';
import type { LocalConfigSchema } from './schemas.ts';
import { tempPath, writeFileAtomic } from './atomic-file.ts';
import { readJsonFile } from './json-file.ts';

export { BYPASS_CATEGORIES, ENDPOINT_PATTERN, type BypassCategory } from './config-patterns.ts';

export type LocalConfig = Static<typeof LocalConfigSchema>;
export type ConfigKey = keyof LocalConfig;
export const CONFIG_KEYS = Object.keys(localConfigProperties) as ConfigKey[];

const keyByLowerCase = new Map(CONFIG_KEYS.map((k) => [k.toLowerCase(), k]));

/** The canonical spelling of a key, matched case-insensitively; undefined for a key we don't know. */
export const canonicalKey = (key: string): ConfigKey | undefined => keyByLowerCase.get(key.toLowerCase());

/** The parts of a key's JSON schema that `config set` and `config info` read. */
export interface KeySchema {
  type?: 'boolean' | 'integer' | 'string' | 'array';
  anyOf?: { const: string }[];
  items?: KeySchema;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  default?: unknown;
  description: string;
  allowed: string;
}

export const keySchema = (key: ConfigKey): KeySchema => localConfigProperties[key] as KeySchema;

/** What a key is for and the values it takes, for messages that must say what would be accepted. */
export function describeKey(key: ConfigKey): string {
  const { description, allowed } = keySchema(key);
  return `${description}; allowed: ${allowed}`;
}

/**
 * What typebox's Value.Default does with this schema, without typebox: a key that is missing (or
 * undefined) gets a copy of its default. Only the keys themselves have defaults, none below them;
 * test/core/schema-checks.test.ts compares the two.
 */
function withDefaults(entries: Record<string, unknown>): Record<string, unknown> {
  for (const key of CONFIG_KEYS)
    if (entries[key] === undefined) entries[key] = structuredClone(keySchema(key).default);
  return entries;
}

export const defaultConfig = (): LocalConfig => withDefaults({}) as LocalConfig;

/** True when `value` is a value `key` takes: a configuration holding it, defaults elsewhere, fits. */
export const fitsKey = (key: ConfigKey, value: unknown): boolean =>
  fitsSchema('LocalConfigSchema', { ...defaultConfig(), [key]: value });

/**
 * Validates a parsed localconfig.json: canonical key spelling, defaults for what is missing, and an
 * error that names the key and its allowed values for what is wrong. Unknown keys are kept as they are.
 */
export async function parseLocalConfig(raw: unknown, source: string): Promise<LocalConfig> {
  const config = withDefaults(canonicalEntries(raw, source));
  const first = await schemaProblem('LocalConfigSchema', config);
  if (first) {
    const key = first.instancePath.split('/')[1] as ConfigKey | undefined;
    const what = key && key in localConfigProperties ? `${key}: ${describeKey(key)}` : first.message;
    throw new AgentError('CONFIG_INVALID', `${source}: ${what}`);
  }
  return config as LocalConfig;
}

/** The entries of a parsed localconfig.json under their canonical key spelling; nothing is validated. */
function canonicalEntries(raw: unknown, source: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new AgentError('CONFIG_UNREADABLE', `${source} must hold a JSON object`);
  }
  const normalised: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const canonical = canonicalKey(key) ?? key;
    if (canonical in normalised) {
      throw new AgentError(
        'CONFIG_INVALID',
        `${source}: ${canonical} is given twice (keys are case-insensitive)`,
      );
    }
    normalised[canonical] = value;
  }
  return normalised;
}

/** The parsed JSON of a file, or undefined when it does not exist; CONFIG_UNREADABLE names the file otherwise. */
export async function readLocalConfig(path: string): Promise<LocalConfig> {
  const raw = await readJsonFile(path);
  return raw === undefined ? defaultConfig() : parseLocalConfig(raw, path);
}

/**
 * What localconfig.json holds, as written: canonical keys, no defaults added, values not checked
 * (an empty object when the file does not exist). A read-modify-write starts here, so that a change
 * can repair a value that is wrong; writeLocalConfig then checks the whole result.
 */
export async function readLocalConfigEntries(path: string): Promise<Record<string, unknown>> {
  const raw = await readJsonFile(path);
  return raw === undefined ? {} : canonicalEntries(raw, path);
}

/**
 * Writes the whole configuration atomically, after keeping the previous file as `<path>.bak`.
 * A read-modify-write must hold the configuration lock: use updateLocalConfig (config-lock.ts).
 */
export async function writeLocalConfig(path: string, config: Record<string, unknown>): Promise<void> {
  const checked: Record<string, unknown> = await parseLocalConfig(config, path);
  // Our keys in their documented order, then keys we don't know: a stable file that diffs well.
  const ordered = Object.fromEntries<unknown>([
    ...CONFIG_KEYS.map((k): [string, unknown] => [k, checked[k]]),
    ...Object.entries(checked).filter(([k]) => canonicalKey(k) === undefined),
  ]);
  try {
    await keepBackup(path);
    await writeFileAtomic(path, `${JSON.stringify(ordered, null, 2)}\n`, 0o644);
  } catch (err) {
    throw new AgentError('CONFIG_WRITE_FAILED', `${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * `<path>.bak` becomes the current file, atomically: a hard link to it, renamed over the old backup.
 * writeFileAtomic then replaces `path` by rename, so the link keeps the old content. Temporary files
 * that a crash left behind are removed on the way.
 */
async function keepBackup(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  const leftovers = (await readdir(dir).catch(() => [])).filter(
    (f) => f.startsWith(prefix) && f.endsWith('.tmp'),
  );
  await Promise.all(leftovers.map((f) => rm(join(dir, f), { force: true })));
  // The leftovers are gone, so the name is free: the link, which never replaces a file, succeeds.
  const tmp = tempPath(path, '.bak.tmp');
  try {
    await link(path, tmp);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  await rename(tmp, `${path}.bak`);
}

export type ConfigWatcher = FileWatcher;

/**
 * Calls `onChange` with the new configuration whenever localconfig.json changes on disk. An invalid
 * file goes to `onError`; the last good one stays.
 */
export function watchLocalConfig(
  path: string,
  onChange: (config: LocalConfig) => void,
  onError: (err: unknown) => void,
  debounceMs = 50,
): ConfigWatcher {
  return watchFile(path, readLocalConfig, onChange, onError, debounceMs);
}
