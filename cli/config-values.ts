// The values of `azcmagent config`, as text: parsing what a user typed into the typed value the
// schema wants (strictly, with a refusal that names what is allowed), list edits for --add and
// --remove, and the way each value is printed. Pure functions; cli/config.ts does the I/O.
import {
  AgentError,
  CONFIG_KEYS,
  fitsKey,
  keySchema,
  type ConfigKey,
  type KeySchema,
} from '../core/index.ts';
import { displayProxyUrl } from './format.ts';

/** Keys that `config.mode monitor` locks (reference section 4.1). */
export const LOCKED_IN_MONITOR_MODE: readonly ConfigKey[] = ['extensions.allowlist', 'extensions.blocklist'];

/** Keys the real agent labels "(preview)" in `config list`. */
const PREVIEW: readonly ConfigKey[] = ['incomingconnections.enabled', 'incomingconnections.ports'];

export const isListKey = (key: ConfigKey): boolean => keySchema(key).type === 'array';

export const listLabel = (key: ConfigKey): string => (PREVIEW.includes(key) ? `${key} (preview)` : key);

export const defaultValue = (key: ConfigKey): unknown => structuredClone(keySchema(key).default);

export function unknownKey(given: string): AgentError {
  return new AgentError(
    'ARGUMENT_INVALID',
    `unknown configuration key "${given}"; the keys are ${CONFIG_KEYS.join(', ')}`,
    { action: 'see every key and the values it takes: azcmagent config info' },
  );
}

const refuse = (key: ConfigKey, shown: string, item = false) => {
  const what = item ? `hold "${shown}"` : shown === '' ? 'be empty' : `be "${shown}"`;
  return new AgentError('CONFIG_INVALID', `${key} cannot ${what}; allowed: ${keySchema(key).allowed}`, {
    action: `see what ${key} takes: azcmagent config info ${key}`,
  });
};

/** What a user typed, in output: a proxy URL never shows its credentials. */
const shownText = (key: ConfigKey, text: string) => (key === 'proxy.url' ? displayProxyUrl(text) : text);

/**
 * One scalar (or one list item) from its text, by its schema; undefined when the text cannot be one.
 * Whether the value fits (a string's pattern) is for the caller to check, with fitsKey.
 */
function parseScalar(schema: KeySchema, text: string): unknown {
  if (schema.anyOf) {
    // Choices are matched case-insensitively and stored in their documented spelling.
    return schema.anyOf.find((c) => c.const.toLowerCase() === text.toLowerCase())?.const;
  }
  switch (schema.type) {
    case 'boolean':
      return /^true$/i.test(text) ? true : /^false$/i.test(text) ? false : undefined;
    case 'integer': {
      if (!/^(0|[1-9][0-9]{0,8})$/.test(text)) return undefined;
      const n = Number(text);
      const inRange = (schema.minimum ?? n) <= n && n <= (schema.maximum ?? n);
      return inRange ? n : undefined;
    }
    default:
      return text;
  }
}

/**
 * The typed value of `config set KEY TEXT`. Lists take comma-separated items (`ARM,Arc`; empty text
 * is the empty list); booleans take true or false; integers take digits only, in range.
 */
export function parseSetting(key: ConfigKey, text: string): unknown {
  const schema = keySchema(key);
  if (schema.type === 'array' && schema.items) {
    const items = text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const parsed = items.map((item) => {
      const value = parseScalar(schema.items as KeySchema, item);
      if (value === undefined || !fitsKey(key, [value])) throw refuse(key, shownText(key, item), true);
      return value;
    });
    return dedupe(parsed);
  }
  const trimmed = text.trim();
  const value = parseScalar(schema, trimmed);
  if (value === undefined || !fitsKey(key, value)) throw refuse(key, shownText(key, trimmed));
  return value;
}

const same = (a: unknown, b: unknown) => String(a).toLowerCase() === String(b).toLowerCase();

function dedupe(items: unknown[]): unknown[] {
  return items.filter((item, i) => items.findIndex((other) => same(other, item)) === i);
}

export interface ListEdit {
  value: unknown[];
  /** Items that were already there (--add) or were not there (--remove). */
  ignored: unknown[];
}

/** --add appends what is missing; --remove drops what is there. Names compare case-insensitively. */
export function editList(current: unknown[], items: unknown[], op: 'add' | 'remove'): ListEdit {
  if (op === 'add') {
    const ignored = items.filter((i) => current.some((c) => same(c, i)));
    return { value: [...current, ...items.filter((i) => !ignored.includes(i))], ignored };
  }
  const ignored = items.filter((i) => !current.some((c) => same(c, i)));
  return { value: current.filter((c) => !items.some((i) => same(c, i))), ignored };
}

/** A value as `config list` and `config get` print it: lists as `[a b]`, as the real agent does. */
export function formatSetting(key: ConfigKey, value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(String).join(' ')}]`;
  if (key === 'proxy.url') return displayProxyUrl(String(value));
  return String(value);
}

/** A value as JSON output carries it: typed, with a proxy URL's credentials redacted. */
export const jsonSetting = (key: ConfigKey, value: unknown): unknown =>
  key === 'proxy.url' ? displayProxyUrl(String(value)) : value;

/** A value inside a sentence: the empty string is named, not left blank. */
export const quoteSetting = (key: ConfigKey, value: unknown): string =>
  value === '' ? '(empty)' : formatSetting(key, value);

export interface KeyInfo {
  type: string;
  list: boolean;
  default: unknown;
  /** Every value the key takes, when they can be listed. */
  values?: unknown[];
  allowed: string;
  description: string;
}

/** What `config info` says about a key: type, default, allowed values and what it is for. */
export function keyInfo(key: ConfigKey): KeyInfo {
  const schema = keySchema(key);
  const item = schema.type === 'array' && schema.items ? schema.items : schema;
  const scalar = item.anyOf ? 'string' : (item.type ?? 'string');
  const values = item.anyOf
    ? item.anyOf.map((c) => c.const)
    : item.type === 'boolean'
      ? [true, false]
      : undefined;
  return {
    type: schema.type === 'array' ? `list of ${scalar}s` : scalar,
    list: schema.type === 'array',
    default: schema.default,
    ...(values ? { values } : {}),
    allowed: schema.allowed,
    description: schema.description,
  };
}
