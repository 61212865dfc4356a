// Upstream tokens, cached per (machine, resource as requested): `https://vault.azure.net` and
// `https://vault.azure.net/` are separate entries, each answered with its own spelling. A token is
// served while comfortably valid, refreshed in the background once past half its life, and fetched
// anew when less than 5 minutes are left (msal-node treats less than that as expired; reference
// section 5). Concurrent requests for one resource share one upstream call.
import { AgentError, isAgentError, type Logger } from '../../core/index.ts';
import { msClock } from './clock.ts';
import type { TokenRequest, TokenSource, UpstreamToken } from './token-source.ts';

/** Less than this left: the token is not served any more. */
export const REFRESH_MARGIN_SECONDS = 300;
const MAX_ENTRIES = 1_000;

interface Entry {
  token: UpstreamToken;
  /** Unix seconds when we got it. */
  obtainedAt: number;
}

export type CacheDecision = 'use' | 'use-and-refresh' | 'fetch';

/** What to do with a cached entry at `now` (unix seconds); no I/O. */
export function cacheDecision(entry: Entry | undefined, now: number): CacheDecision {
  if (!entry) return 'fetch';
  const left = entry.token.expiresOn - now;
  if (left < REFRESH_MARGIN_SECONDS) return 'fetch';
  const lifetime = entry.token.expiresOn - entry.obtainedAt;
  return left < lifetime / 2 ? 'use-and-refresh' : 'use';
}

/** A failure of the token source as HIMDS answers it: the reason kept, the code HIMDS's. */
export function tokenSourceError(err: unknown): AgentError {
  if (isAgentError(err)) {
    if (err.code.startsWith('HIMDS_')) return err;
    if (err.code === 'IDENTITY_EXPIRED') return new AgentError('HIMDS_IDENTITY_EXPIRED', err.detail);
    return new AgentError('HIMDS_TOKEN_UNAVAILABLE', err.message, { action: err.action });
  }
  return new AgentError('HIMDS_TOKEN_UNAVAILABLE', (err as Error)?.message ?? String(err));
}

export interface TokenCache {
  /** A token with at least 5 minutes left; `bypassCache` always asks the source. */
  get(request: TokenRequest & { bypassCache?: boolean }): Promise<{ token: UpstreamToken; cached: boolean }>;
  /** The cached token at once when it can be served as it is (no refresh due), else undefined. */
  peek(request: TokenRequest): UpstreamToken | undefined;
  readonly size: number;
}

export function createTokenCache(opts: { source: TokenSource; log: Logger; now?: () => Date }): TokenCache {
  const { source, log } = opts;
  const now = msClock(opts.now);
  const seconds = () => Math.floor(now() / 1000);
  const entries = new Map<string, Entry>();
  const inflight = new Map<string, Promise<UpstreamToken>>();

  const keyOf = (request: TokenRequest) => `${request.state.resourceId}\n${request.resource}`;
  const fetch = (key: string, request: TokenRequest): Promise<UpstreamToken> => {
    let pending = inflight.get(key);
    if (!pending) {
      const obtainedAt = seconds();
      pending = source
        .getToken({ resource: request.resource, state: request.state })
        .then(
          (token) => {
            entries.delete(key); // re-insert: Map order is then oldest-first, for eviction
            entries.set(key, { token, obtainedAt });
            if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!);
            log.debug(
              { resource: request.resource, expiresOn: token.expiresOn },
              'token fetched from the cloud',
            );
            return token;
          },
          (err: unknown) => {
            throw tokenSourceError(err);
          },
        )
        .finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    return pending;
  };

  return {
    get size() {
      return entries.size;
    },
    peek(request) {
      const entry = entries.get(keyOf(request));
      return cacheDecision(entry, seconds()) === 'use' ? entry!.token : undefined;
    },
    async get(request) {
      const key = keyOf(request);
      const entry = entries.get(key);
      const decision = request.bypassCache ? 'fetch' : cacheDecision(entry, seconds());
      if (decision === 'fetch') return { token: await fetch(key, request), cached: false };
      if (decision === 'use-and-refresh')
        fetch(key, request).catch((err: AgentError) =>
          log.warn(
            { resource: request.resource, code: err.code, err: err.message },
            'background token refresh failed',
          ),
        );
      return { token: entry!.token, cached: true };
    },
  };
}
