// The body of a successful token answer: every value a string, expires_in and expires_on both
// present and consistent (msal-node reads only expires_on, MSAL Python only expires_in; reference
// section 1.4), the resource as the client spelled it, and the identity's ids echoed for clients
// that fail closed without them.
import type { Static } from 'typebox';
import type { Selector } from './identity-selector.ts';
import type { TokenAnswer } from './schemas.ts';
import type { UpstreamToken } from './token-source.ts';

export function tokenAnswer(
  token: UpstreamToken,
  resource: string,
  nowSeconds: number,
  selector: Selector | undefined,
): Static<typeof TokenAnswer> {
  const expiresIn = String(Math.max(0, token.expiresOn - nowSeconds));
  return {
    access_token: token.accessToken,
    ...(token.clientId ? { client_id: token.clientId } : {}),
    ...(selector && selector.param !== 'client_id' ? { [selector.param]: selector.value } : {}),
    expires_in: expiresIn,
    expires_on: String(token.expiresOn),
    ext_expires_in: expiresIn,
    not_before: String(token.notBefore),
    resource,
    token_type: token.tokenType,
  };
}
