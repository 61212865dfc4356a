// localconfig.json: the user's settings, a flat JSON object with the real agent's dotted keys plus
// ours. Validated with typebox at the edge; everything below gets a typed, complete LocalConfig.
// Keys are matched case-insensitively, as the real agent does for proxy keys (1.46).
import { link, readdir, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { type FileWatcher, watchFile } from './watch-file.ts';
import { basename, dirname, join } from 'node:path';
import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { AgentError } from './errors.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { readJsonFile } from './json-file.ts';

export const BYPASS_CATEGORIES = ['AAD', 'ARM', 'Arc', 'AMA', 'ArcData'] as const;
export type BypassCategory = (typeof BYPASS_CATEGORIES)[number];

/** A port from 1 to 65535, after a colon. */
const PORT = '(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?';
/** An unbracketed IPv6 literal: hex groups with at least two colons, and no port. */
const BARE_IPV6 = '(?=[0-9A-Fa-f:.]*:[0-9A-Fa-f.]*:)[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f.]{0,15}){2,7}';
/** host, host:port, *.domain, *.domain:port, an IPv4 literal, or an IPv6 literal (bracketed when it has a port). */
export const ENDPOINT_PATTERN = `^(?:(?:(?:\\*\\.)?[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*|\\[[0-9A-Fa-f:.]+\\])${PORT}|${BARE_IPV6})$`;
const PROXY_URL_PATTERN = `^$|^https?://(?:[^\\s/]+@)?(?:\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+)${PORT}/?$`;
const EXTENSION_NAME = '^(?:[A-Za-z0-9.-]+/[A-Za-z0-9.-]+)$';
/** Allow/None means "allow nothing"; in the block-list it would mean nothing at all. */
const BLOCKED_EXTENSION_NAME =
  '^(?![Aa][Ll][Ll][Oo][Ww]/[Nn][Oo][Nn][Ee]$)(?:[A-Za-z0-9.-]+/[A-Za-z0-9.-]+)$';

/**
 * What a key is for (`description`) and, separately, the values it takes (`allowed`): validation
 * messages and `azcmagent config info` print both, so a refusal always names what would be accepted.
 */
interface KeyText {
  description: string;
  allowed: string;
}

const list = <T extends TSchema>(item: T, text: KeyText) => Type.Array(item, { default: [], ...text });
const bool = (description: string) => Type.Boolean({ default: true, description, allowed: 'true or false' });
const cpuLimit = (description: string) =>
  Type.Integer({ minimum: 1, maximum: 100, default: 5, description, allowed: 'an integer from 1 to 100' });

// Key order is the order of the real agent's `config list` (reference section 4.1), then ours.
export const LocalConfigSchema = Type.Object(
  {
    'incomingconnections.enabled': bool(
      'allow remote access (SSH, Windows Admin Center) through the Arc connectivity platform',
    ),
    'incomingconnections.ports': list(Type.Integer({ minimum: 1, maximum: 65535 }), {
      description: 'TCP ports that the Arc connectivity platform may connect to on this machine',
      allowed: 'a list of TCP ports from 1 to 65535, e.g. 22,6516',
    }),
    // `default` is what agents since 1.51 do: use the gateway the cloud associates with this machine.
    'connection.type': Type.Union(
      [Type.Literal('default'), Type.Literal('direct'), Type.Literal('gateway')],
      {
        default: 'default',
        description: 'how the Arc Proxy reaches Azure',
        allowed:
          'default (through the Arc gateway when the cloud associates one with this machine, else direct), direct (never the gateway: straight, or through proxy.url) or gateway (through the Arc gateway)',
      },
    ),
    'proxy.url': Type.String({
      default: '',
      pattern: PROXY_URL_PATTERN,
      description: 'the enterprise proxy that traffic to Azure goes through; empty for none',
      allowed:
        'an http:// or https:// URL of a host with an optional port and no path, e.g. http://proxy.contoso.com:8080',
    }),
    'proxy.bypass': list(
      Type.Union([
        Type.Literal('AAD'),
        Type.Literal('ARM'),
        Type.Literal('Arc'),
        Type.Literal('AMA'),
        Type.Literal('ArcData'),
      ]),
      {
        description:
          'services whose endpoints skip proxy.url and go direct (ignored with connection.type gateway)',
        allowed: `a list of service names: ${BYPASS_CATEGORIES.join(', ')}`,
      },
    ),
    'extensions.allowlist': list(Type.String({ pattern: EXTENSION_NAME }), {
      description:
        'the only extensions that may be installed or updated; empty allows all that are not blocked',
      allowed:
        'a list of Publisher/Type names, e.g. Microsoft.Azure.Monitor/AzureMonitorLinuxAgent, or Allow/None to allow none',
    }),
    'extensions.blocklist': list(Type.String({ pattern: BLOCKED_EXTENSION_NAME }), {
      description: 'extensions that are never installed or updated',
      allowed: 'a list of Publisher/Type names, e.g. Microsoft.CPlat.Core/RunCommandHandlerLinux',
    }),
    'guestconfiguration.enabled': bool('run machine configuration (Azure Policy guest configuration)'),
    'extensions.enabled': bool('run the extension manager; extensions already installed stay'),
    'config.mode': Type.Union([Type.Literal('full'), Type.Literal('monitor')], {
      default: 'full',
      description:
        'monitor applies a Microsoft-managed extension allow-list, turns off machine configuration and remote access, and locks extensions.allowlist and extensions.blocklist',
      allowed: 'full or monitor',
    }),
    'guestconfiguration.agent.cpulimit': cpuLimit('CPU limit of machine configuration, in percent'),
    'extensions.agent.cpulimit': cpuLimit('CPU limit of the extension manager, in percent'),
    'arcproxy.allowlist.mode': Type.Union([Type.Literal('audit'), Type.Literal('enforce')], {
      default: 'audit',
      description: 'what the Arc Proxy does with destinations outside its allow-list',
      allowed: 'audit (let them through, log and count them) or enforce (refuse them with 403)',
    }),
    'arcproxy.allowlist': list(Type.String({ pattern: ENDPOINT_PATTERN }), {
      description: "destinations the Arc Proxy allows besides the cloud's own endpoints",
      allowed: 'a list of host, host:port, *.domain, *.domain:port, IPv4 or [IPv6] literals',
    }),
    'gateway.bypass': list(Type.String({ pattern: ENDPOINT_PATTERN }), {
      description: 'destinations that skip the Arc gateway',
      allowed: 'a list of host[:port] or *.domain[:port]',
    }),
  },
  { additionalProperties: true },
);

export type LocalConfig = Static<typeof LocalConfigSchema>;
export type ConfigKey = keyof LocalConfig;
export const CONFIG_KEYS = Object.keys(LocalConfigSchema.properties) as ConfigKey[];

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

export const keySchema = (key: ConfigKey): KeySchema =>
  LocalConfigSchema.properties[key] as unknown as KeySchema;

/** What a key is for and the values it takes, for messages that must say what would be accepted. */
export function describeKey(key: ConfigKey): string {
  const { description, allowed } = keySchema(key);
  return `${description}; allowed: ${allowed}`;
}

export const defaultConfig = (): LocalConfig => Value.Default(LocalConfigSchema, {}) as LocalConfig;

/**
 * Validates a parsed localconfig.json: canonical key spelling, defaults for what is missing, and an
 * error that names the key and its allowed values for what is wrong. Unknown keys are kept as they are.
 */
export function parseLocalConfig(raw: unknown, source: string): LocalConfig {
  const withDefaults = Value.Default(LocalConfigSchema, canonicalEntries(raw, source));
  const first = Value.Errors(LocalConfigSchema, withDefaults)[0];
  if (first) {
    const key = first.instancePath.split('/')[1] as ConfigKey | undefined;
    const what = key && key in LocalConfigSchema.properties ? `${key}: ${describeKey(key)}` : first.message;
    throw new AgentError('CONFIG_INVALID', `${source}: ${what}`);
  }
  return withDefaults as LocalConfig;
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
  const checked: Record<string, unknown> = parseLocalConfig(config, path);
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
  const tmp = join(dir, `${prefix}${process.pid}.${randomBytes(4).toString('hex')}.bak.tmp`);
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
