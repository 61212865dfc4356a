// The `--config FILE` that every azcmagent command takes, as the real agent does: a JSON or YAML
// mapping of long flag names to values, e.g. {"home": "/x", "json": true} (reference
// arc-cli-proxy-gateway.md section 1.1). Reading and matching are here; cli/main.ts applies the
// result, and flags given on the command line win. Error messages name keys and positions, never
// values or file text: such files hold secrets (service principal secrets are meant to go there).
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type * as Yaml from 'yaml';
import { AgentError } from './errors.ts';

/** One flag a command accepts, as the flags file may name it. */
export interface FlagSpec {
  /** The long name without dashes: `proxy-port`, or `no-color` for a negatable flag. */
  name: string;
  /** Where the parser keeps it: `proxyPort`, `color`. */
  attribute: string;
  /** `--proxy-port <port>` takes a value; `--json` does not. */
  takesValue: boolean;
  /** `--no-color`: true in the file sets the attribute to false. */
  negate: boolean;
}

export interface FlagAssignment {
  attribute: string;
  value: string | boolean;
  /** The key as the file spelt it, for messages. */
  key: string;
}

/** Keys that make no sense in a flags file; skipped without a note. */
const NOT_FROM_FILE = new Set(['config', 'help', 'version']);

// No `cause`: parsers' own messages quote the file's text.
const invalid = (path: string, why: string) => new AgentError('CONFIG_FILE_INVALID', `${path}: ${why}`);

/** Line and column (1-based) of a character offset, for a parse error that must not quote the text. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

/**
 * The `yaml` package, from node_modules at run time. The specifier is a variable so that esbuild
 * leaves it out of dist/azcmagent.js: bundled, its 280 KB of source sat in every daemon's memory
 * (about 0.4 MB of idle RSS in the Arc Proxy) for a parser that only `--config x.yaml` uses.
 */
const YAML_MODULE = 'yaml';

async function parseYaml(path: string, text: string): Promise<unknown> {
  let yaml: typeof Yaml;
  try {
    yaml = (await import(YAML_MODULE)) as typeof Yaml;
  } catch {
    throw invalid(
      path,
      'reading YAML needs the yaml package beside azcmagent (npm ci); a .json file works without it',
    );
  }
  const { parse, YAMLError } = yaml;
  try {
    return parse(text, { prettyErrors: false });
  } catch (err) {
    if (!(err instanceof YAMLError)) throw err;
    throw invalid(path, `not valid YAML (${err.code} at ${lineColumn(text, err.pos[0])})`);
  }
}

/** The file's mapping of flag names to values. `.json` files are JSON; anything else is YAML (a superset). */
export async function readFlagsFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw invalid(path, code === 'ENOENT' ? 'no such file' : `cannot be read (${code})`);
  }
  let parsed: unknown;
  if (extname(path).toLowerCase() === '.json') {
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      // V8's message quotes the text around the error; only the position is kept.
      const at = /position (\d+)/.exec((err as Error).message)?.[1];
      throw invalid(path, `not valid JSON${at ? ` (${lineColumn(text, Number(at))})` : ''}`);
    }
  } else {
    parsed = await parseYaml(path, text);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw invalid(path, 'must hold a mapping of long flag names to values, e.g. {"verbose": true}');
  return parsed as Record<string, unknown>;
}

/**
 * Matches the file's keys to a command's flags (by long name, or by attribute name: `proxy-port` or
 * `proxyPort`; `no-color: true` or `color: false`). Unknown keys are returned as ignored, not refused:
 * one file may serve several commands. A value of the wrong type is refused, naming its key.
 */
export function flagsFromFile(
  values: Record<string, unknown>,
  flags: FlagSpec[],
  source: string,
): { assign: FlagAssignment[]; ignored: string[] } {
  const assign: FlagAssignment[] = [];
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    const k = key.toLowerCase();
    if (NOT_FROM_FILE.has(k)) continue;
    const byName = flags.find((f) => f.name.toLowerCase() === k);
    const byAttribute = byName ? undefined : flags.find((f) => f.attribute.toLowerCase() === k);
    const flag = byName ?? byAttribute;
    if (!flag) {
      ignored.push(key);
      continue;
    }
    if (flag.takesValue) {
      if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)))
        assign.push({ attribute: flag.attribute, value: String(value), key });
      else throw invalid(source, `${key} takes a string or a number`);
    } else {
      if (typeof value !== 'boolean') throw invalid(source, `${key} takes true or false`);
      // `no-color: true` means color false; `color: false` says the same directly.
      assign.push({ attribute: flag.attribute, value: byName && flag.negate ? !value : value, key });
    }
  }
  return { assign, ignored };
}
