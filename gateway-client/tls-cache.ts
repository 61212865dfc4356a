// What the TLS sessions to the gateway keep between connections: one secure context per (CA, machine
// certificate), so the key is parsed once and not per tunnel, and the last session ticket per gateway
// and certificate, so a new tunnel resumes (RFC 8446 section 2.2) instead of a full handshake.
// Keyed by certificate too: a resumed session carries the client certificate of the handshake that
// made it, so a renewed certificate, or the first one after connect, must not resume an old session.
import { createHash } from '../core/index.ts';
import type tls from 'node:tls';

/** node:tls on first use: loading it costs the Arc Proxy ~3 MiB, and most machines use no gateway. */
export const lazyTls = (): typeof tls => process.getBuiltinModule('node:tls');

/** The machine identity presented to the gateway. The key is a secret: never log it. */
export interface ClientIdentity {
  certPem: string;
  keyPem: string;
  /** Any stable fingerprint of the certificate; computed when absent. */
  thumbprint?: string | undefined;
}

const MAX_SESSIONS = 32;

export interface GatewayTlsCache {
  /** The secure context for this CA and identity (none before connect). */
  context(ca: string | Buffer | undefined, identity: ClientIdentity | undefined): tls.SecureContext;
  /** The key under which sessions to `gatewayHost` with `identity` are kept. */
  sessionKey(gatewayAuthority: string, identity: ClientIdentity | undefined): string;
  session(key: string): Buffer | undefined;
  saveSession(key: string, session: Buffer): void;
  forgetSession(key: string): void;
}

const fingerprint = (identity: ClientIdentity | undefined): string =>
  identity
    ? (identity.thumbprint ?? createHash('sha256').update(identity.certPem).digest('hex').slice(0, 32))
    : 'anonymous';

export function createGatewayTlsCache(): GatewayTlsCache {
  let last: { ca: string | Buffer | undefined; id: string; context: tls.SecureContext } | undefined;
  const sessions = new Map<string, Buffer>();
  return {
    context(ca, identity) {
      const id = fingerprint(identity);
      if (last && last.ca === ca && last.id === id) return last.context;
      const context = lazyTls().createSecureContext({
        ...(ca ? { ca } : {}),
        ...(identity ? { cert: identity.certPem, key: identity.keyPem } : {}),
      });
      last = { ca, id, context };
      return context;
    },
    sessionKey: (gatewayAuthority, identity) => `${gatewayAuthority}\u0000${fingerprint(identity)}`,
    session: (key) => sessions.get(key),
    saveSession(key, session) {
      sessions.delete(key);
      sessions.set(key, session);
      // Oldest first in a Map: drop what no gateway or certificate in use will ask for again.
      for (const old of sessions.keys()) {
        if (sessions.size <= MAX_SESSIONS) break;
        sessions.delete(old);
      }
    },
    forgetSession: (key) => void sessions.delete(key),
  };
}
