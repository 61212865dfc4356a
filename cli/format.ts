// Small output helpers shared by `config` and `show`: the real agent's `Name : value` layout, and
// the one way a proxy URL is displayed (credentials never printed).
import { redactUrl } from '../core/index.ts';

export interface Field {
  name: string;
  /** Left out for a heading, which prints alone on its line. */
  value?: string;
  /** Spaces before the name (rows under a heading). */
  indent?: number;
}

/** `Name : value` lines with every colon in one column, as the real agent prints `show` and `config list`. */
export function alignedLines(fields: readonly Field[]): string {
  const label = (f: Field) => `${' '.repeat(f.indent ?? 0)}${f.name}`;
  const width = Math.max(0, ...fields.filter((f) => f.value !== undefined).map((f) => label(f).length));
  return fields
    .map((f) => (f.value === undefined ? label(f) : `${label(f).padEnd(width)} : ${f.value}`.trimEnd()))
    .join('\n');
}

/**
 * A proxy URL fit for output: as written when it holds no credentials, otherwise through redactUrl
 * (user and password become REDACTED). Text that is not a URL loses anything that looks like a secret.
 */
export function displayProxyUrl(url: string): string {
  if (url === '') return '';
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
  } catch {
    // redactUrl scrubs text that is not a URL
  }
  const redacted = redactUrl(url);
  // URL serialisation adds the path "/"; keep the value as the user wrote it otherwise.
  return !url.endsWith('/') && redacted.endsWith('/') ? redacted.slice(0, -1) : redacted;
}
