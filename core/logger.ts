// The logger factory (pino) and the one place that knows how to keep secrets out of logs and output:
// proxy credentials in URLs, bearer and basic credentials, SAS signatures, tokens and keys.
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

const REDACTED = 'REDACTED';

/** Query parameters whose values are secrets (SAS signatures, OAuth codes and tokens). */
const SECRET_PARAMS =
  /^(sig|signature|token|access_token|refresh_token|code|client_secret|password|secret|key)$/i;

/**
 * A URL fit for logs and output: user name and password become REDACTED, and so do the values of
 * secret query parameters. Text that is not a URL comes back with only embedded credentials removed.
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return redactSecrets(String(url));
  }
  if (parsed.username || parsed.password) {
    parsed.username = REDACTED;
    parsed.password = '';
  }
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAMS.test(name)) parsed.searchParams.set(name, REDACTED);
  }
  return parsed.toString();
}

const CREDENTIALS_IN_URL = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*(?::[^\s/@]*)?@/gi;
const AUTH_SCHEMES = /\b(Basic|Bearer|Negotiate|NTLM)\s+[A-Za-z0-9+/=._~-]{4,}/g;
const PEM_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g;
const SECRET_QUERY =
  /([?&](?:sig|signature|token|access_token|refresh_token|client_secret|password)=)[^&\s"']+/gi;

/** Removes credentials from free text: URLs with user info, Authorization values, PEM keys, SAS signatures. */
export function redactSecrets(text: string): string {
  return text
    .replace(CREDENTIALS_IN_URL, `$1${REDACTED}@`)
    .replace(AUTH_SCHEMES, `$1 ${REDACTED}`)
    .replace(PEM_KEY, `-----${REDACTED} PRIVATE KEY-----`)
    .replace(SECRET_QUERY, `$1${REDACTED}`);
}

/** Field names whose values never reach a log line, at any depth (headers included). */
const SECRET_FIELDS = new Set([
  'authorization',
  'proxy-authorization',
  'password',
  'secret',
  'token',
  'access_token',
  'refresh_token',
  'client_secret',
  'privatekey',
  'private_key',
  'key',
]);

/** Secret fields become REDACTED, strings lose embedded credentials; plain objects are scrubbed a few levels deep. */
function scrub(key: string, value: unknown, depth: number): unknown {
  if (SECRET_FIELDS.has(key.toLowerCase())) return REDACTED;
  if (typeof value === 'string') return redactSecrets(value);
  if (value instanceof URL) return redactUrl(value);
  if (depth < 3 && value !== null && typeof value === 'object' && !(value instanceof Error)) {
    if (Array.isArray(value)) return value.map((v) => scrub('', v, depth + 1));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(k, v, depth + 1)]));
  }
  return value;
}

export interface LoggerOptions {
  name: string;
  level?: LevelWithSilent;
  /** Where lines go; stderr when absent. */
  destination?: DestinationStream;
}

/** A pino logger whose every line has secrets removed, whatever a caller passes in. */
export function createLogger({ name, level = 'info', destination }: LoggerOptions): Logger {
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Our own scrub instead of pino's `redact` paths: it also catches secrets inside strings and at
      // any key, and costs nothing until a line is written.
      formatters: {
        log(obj) {
          for (const [k, v] of Object.entries(obj)) obj[k] = scrub(k, v, 0);
          return obj;
        },
      },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? redactSecrets(a) : a)) as typeof args;
          method.apply(this, scrubbed);
        },
      },
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
