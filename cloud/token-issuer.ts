// The local cloud's token issuer: one RS256 signing key, made at first start and kept in the
// database, that signs every access token (service principals and machine identities) and that
// the JWKS publishes. ARM verifies its tokens with the same key, in-process.
import { createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import {
  calculateJwkThumbprint,
  exportJWK,
  jwtVerify,
  SignJWT,
  errors,
  type JWK,
  type JWTPayload,
} from 'jose';
import { generateKeyPair } from '../certs/index.ts';
import { LOGIN_ENDPOINT } from './profile.ts';
import type { CloudStore } from './store.ts';

const SIGNING_KEY = 'token-signing';

export interface TokenClaims {
  /** The resource the token is for (its audience), without "/.default". */
  audience: string;
  /** The principal's object id (oid and sub). */
  objectId: string;
  /** The application (client) id (appid and azp). */
  clientId: string;
  lifetimeSeconds: number;
  /** Extra claims, e.g. xms_mirid for a managed identity. */
  extra?: Record<string, string>;
}

export interface IssuedToken {
  /** A secret: never log it. */
  token: string;
  issuedAt: number;
  expiresAt: number;
}

export type TokenProblem = 'invalid' | 'expired' | 'audience';

export interface TokenIssuer {
  readonly tenantId: string;
  readonly issuer: string;
  readonly jwks: { keys: JWK[] };
  sign(claims: TokenClaims, now: Date): Promise<IssuedToken>;
  /** The verified payload, or why the token is refused. `audiences` are compared without a trailing slash. */
  verify(
    token: string,
    audiences: string[],
    now: Date,
  ): Promise<{ ok: true; payload: JWTPayload } | { ok: false; problem: TokenProblem; detail: string }>;
}

/** Entra's v2.0 issuer form, for our login host. */
export const issuerFor = (tenantId: string): string => `${LOGIN_ENDPOINT}/${tenantId}/v2.0`;

const withoutSlash = (s: string) => s.replace(/\/+$/, '').toLowerCase();

export async function createTokenIssuer(
  store: CloudStore,
  tenantId: string,
  now: Date,
): Promise<TokenIssuer> {
  let pem = store.getKey(SIGNING_KEY)?.privateKeyPem;
  if (!pem) {
    pem = (await generateKeyPair()).privateKeyPem;
    store.putKey(SIGNING_KEY, pem, undefined, now.toISOString());
  }
  const privateKey: KeyObject = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const issuer = issuerFor(tenantId);
  return {
    tenantId,
    issuer,
    jwks: { keys: [{ ...jwk, kid, use: 'sig', alg: 'RS256' }] },

    async sign(c, at) {
      const iat = Math.floor(at.getTime() / 1000);
      const exp = iat + c.lifetimeSeconds;
      const token = await new SignJWT({
        tid: tenantId,
        oid: c.objectId,
        appid: c.clientId,
        azp: c.clientId,
        idtyp: 'app',
        ver: '2.0',
        ...c.extra,
      })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
        .setIssuer(issuer)
        .setAudience(c.audience)
        .setSubject(c.objectId)
        .setIssuedAt(iat)
        .setNotBefore(iat)
        .setExpirationTime(exp)
        .setJti(randomUUID())
        .sign(privateKey);
      return { token, issuedAt: iat, expiresAt: exp };
    },

    async verify(token, audiences, at) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, publicKey, {
          issuer,
          algorithms: ['RS256'],
          currentDate: at,
        }));
      } catch (err) {
        if (err instanceof errors.JWTExpired)
          return { ok: false, problem: 'expired', detail: 'the token has expired' };
        return {
          ok: false,
          problem: 'invalid',
          detail: (err as { code?: string }).code ?? 'the token is invalid',
        };
      }
      const aud = [payload.aud ?? []].flat().map(withoutSlash);
      if (!audiences.some((a) => aud.includes(withoutSlash(a))))
        return {
          ok: false,
          problem: 'audience',
          detail: `the audience '${[payload.aud].flat().join(', ')}' is not accepted here`,
        };
      return { ok: true, payload };
    },
  };
}
