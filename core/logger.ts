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

// Up to the last `@` before the path, as a URL parser reads it: a password may hold an unescaped `@`.
const CREDENTIALS_IN_URL = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi;
// Authentication schemes are case-insensitive (RFC 9110 section 11.1).
const AUTH_SCHEMES = /\b(Basic|Bearer|Negotiate|NTLM)\s+[A-Za-z0-9+/=._~-]{4,}/gi;
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

/**
 * A copy fit for a log line: secret fields become REDACTED, strings and URLs lose embedded
 * credentials, errors keep their type, code, message and stack (scrubbed). The caller's value is
 * never changed.
 */
function scrub(key: string, value: unknown, depth: number): unknown {
  if (SECRET_FIELDS.has(key.toLowerCase())) return REDACTED;
  if (typeof value === 'string') return redactSecrets(value);
  if (value instanceof URL) return redactUrl(value);
  if (value instanceof Error) {
    const { code } = value as NodeJS.ErrnoException;
    return {
      type: value.name,
      message: redactSecrets(value.message),
      ...(code ? { code } : {}),
      ...(value.stack ? { stack: redactSecrets(value.stack) } : {}),
    };
  }
  if (depth < 4 && value !== null && typeof value === 'object') {
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
  const logger = pino(
    {
      name,
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Our own scrub instead of pino's `redact` paths: it also catches secrets inside strings and at
      // any key, and costs nothing until a line is written.
      formatters: {
        log: (obj) => scrub('', obj, 0) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          // log.error(err) and log.error(err, msg): keep the error as a field, scrubbed like the rest.
          const first: unknown = args[0];
          const normalised: unknown[] =
            first instanceof Error
              ? [{ err: first }, ...(args.length > 1 ? args.slice(1) : [first.message])]
              : args;
          method.apply(this, normalised.map((a) => scrub('', a, 0)) as typeof args);
        },
      },
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
  return scrubChildBindings(logger);
}

/**
 * pino applies `formatters.log` to a line's own fields only; a child's bindings are scrubbed here.
 * pino makes each child with Object.create(parent), so children and grandchildren inherit this.
 */
function scrubChildBindings(logger: Logger): Logger {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the child's own `this` below
  const { child } = logger;
  logger.child = function scrubbedChild(this: Logger, bindings, options) {
    return child.call(this, scrub('', bindings, 0) as typeof bindings, options);
  } as Logger['child'];
  return logger;
}
