// Who is calling: the user name in the proxy URL the client was given (http://extd@127.0.0.1:40343
// arrives as `Proxy-Authorization: Basic base64("extd:")`), or `anonymous`. It names the client in
// the meter; it is not a credential, and the password part is ignored.

const SAFE_ID = /^[A-Za-z0-9._@-]{1,64}$/;

export function clientIdOf(proxyAuthorization: string | undefined): string {
  if (!proxyAuthorization || !/^basic /i.test(proxyAuthorization)) return 'anonymous';
  const decoded = Buffer.from(proxyAuthorization.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  return SAFE_ID.test(user) ? user : 'anonymous';
}
