// Makes agent files fit to leave the machine (the `azcmagent logs` bundle): values under secret-like
// names become REDACTED, and all text loses credentials in URLs, Authorization values, PEM private
// keys, SAS signatures, bare JWTs and `name=value` / `"name": "value"` pairs with secret-like names.
// Builds on redactSecrets, which the logger already applies to every line it writes; files reach the
// bundle from writers that are not our logger too (older versions, other tools, a hand edit).
import { redactSecrets } from './logger.ts';

const REDACTED = 'REDACTED';

/** Field names whose values never leave the machine, whatever the value looks like. */
const SECRET_NAME =
  /(pass(?:word|wd|phrase)|secret|token|credential|authorization|cookie|private.?key|api.?key|access.?key|^key$|connection.?string|sas.?url|signature|\bpfx\b)/i;

export const isSecretName = (name: string): boolean => SECRET_NAME.test(name);

// The same names inside text: JSON pairs, and key=value pairs (query strings, .env-like lines).
const NAME = '[A-Za-z0-9_.-]*(?:password|passwd|secret|token|credential|api_?key|private_?key|access_?key)';
const JSON_PAIR = new RegExp(`("${NAME}"\\s*:\\s*")((?:[^"\\\\]|\\\\.)*)(")`, 'gi');
const KEY_VALUE = new RegExp(`\\b(${NAME}=)[^\\s&"',;]+`, 'gi');
/** A JSON Web Token (three base64url parts, the first two JSON objects), e.g. a bearer token on its own. */
const JWT = /\beyJ[A-Za-z0-9_-]{6,}\.eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*/g;

/** Free text (a log file, a file that is not JSON) with every secret pattern replaced. */
export function redactText(text: string): string {
  return redactSecrets(text)
    .replace(JWT, REDACTED)
    .replace(JSON_PAIR, `$1${REDACTED}$3`)
    .replace(KEY_VALUE, `$1${REDACTED}`);
}

/** A copy of a parsed document: secret-named fields REDACTED at any depth, strings scrubbed as URLs and text. */
export function redactDocument(value: unknown, name = ''): unknown {
  if (name && isSecretName(name)) return REDACTED;
  // redactSecrets removes a URL's credentials without reformatting it (redactUrl would add a slash).
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redactDocument(v));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDocument(v, k)]));
  return value;
}
