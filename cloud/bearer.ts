// Bearer tokens at ARM's door (and at the identity service's register route): present, well-formed,
// signed by our issuer, unexpired, for the right audience. Refusals carry ARM's codes and the
// WWW-Authenticate challenge ARM sends (RFC 6750 section 3).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JWTPayload } from 'jose';
import { CloudError, type CloudErrorCode } from './errors.ts';
import { LOGIN_ENDPOINT } from './profile.ts';
import type { TokenIssuer } from './token-issuer.ts';

export async function requireBearer(
  request: FastifyRequest,
  tokens: TokenIssuer,
  audiences: string[],
  now: Date,
): Promise<JWTPayload> {
  const header = request.headers.authorization;
  if (!header)
    throw new CloudError(
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is missing.",
    );
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m)
    throw new CloudError(
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is provided in an invalid format.",
    );
  const result = await tokens.verify(m[1]!, audiences, now);
  if (result.ok) return result.payload;
  switch (result.problem) {
    case 'expired':
      throw new CloudError(
        'ExpiredAuthenticationToken',
        `The access token has expired (checked at ${now.toISOString()}).`,
      );
    case 'audience':
      throw new CloudError(
        'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for the wrong audience or resource: ${result.detail}. It should match one of: ${audiences.join(', ')}.`,
      );
    default:
      throw new CloudError('InvalidAuthenticationToken', `The access token is invalid (${result.detail}).`);
  }
}

const BEARER_CODES = new Set<CloudErrorCode>([
  'AuthenticationFailed',
  'InvalidAuthenticationToken',
  'InvalidAuthenticationTokenAudience',
  'ExpiredAuthenticationToken',
]);

/** The challenge a 401 carries, naming where to get a token. */
export function setChallenge(reply: FastifyReply, tenantId: string, err: CloudError): void {
  if (!BEARER_CODES.has(err.code)) return;
  const description = err.message.replace(/["\\]/g, '');
  void reply.header(
    'www-authenticate',
    `Bearer authorization_uri="${LOGIN_ENDPOINT}/${tenantId}", error="invalid_token", error_description="${description}"`,
  );
}
