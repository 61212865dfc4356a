// redactUrl and redactSecrets are what stands between a proxy password or a token and a log line,
// an error message or `--json` output. Each case plants a secret and checks it is gone.
import { describe, expect, it } from 'vitest';
import { redactSecrets, redactUrl } from '../../core/index.ts';

const PASSWORD = 's3cret-Pw9';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJl';
const BASIC = Buffer.from(`alice:${PASSWORD}`).toString('base64');
const KEY_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7';
const pem = (label: string) => `-----BEGIN ${label}-----\n${KEY_BODY}\n${KEY_BODY}\n-----END ${label}-----`;

describe('redactUrl', () => {
  it('removes the user and the password of a proxy URL, and keeps where it points', () => {
    const out = redactUrl(`http://alice:${PASSWORD}@proxy.contoso.com:8080`);
    expect(out).not.toContain(PASSWORD);
    expect(out).not.toContain('alice');
    expect(out).toContain('proxy.contoso.com:8080');
    expect(out).toContain('REDACTED');
  });

  it('removes a lone user name, a lone password, and accepts a URL object', () => {
    expect(redactUrl('https://alice@proxy:3128')).not.toContain('alice');
    expect(redactUrl(`http://:${PASSWORD}@proxy:3128`)).not.toContain(PASSWORD);
    const out = redactUrl(new URL(`http://alice:${PASSWORD}@[::1]:3128`));
    expect(out).not.toContain(PASSWORD);
    expect(out).not.toContain('alice');
    expect(out).toContain('[::1]:3128');
  });

  it('removes a password holding characters a URL must escape', () => {
    const out = redactUrl(`http://alice:${encodeURIComponent('p@ss:w/rd#1')}@proxy:8080`);
    expect(out).not.toMatch(/p%40ss|w%2Frd|alice/);
  });

  it('removes the SAS signature of a storage URL and keeps the harmless parameters', () => {
    const sig = 'Zm9vYmFyYmF6%2BcXV4cXV1eA%3D%3D';
    const out = redactUrl(
      `https://acct.blob.core.windows.net/ext/pkg.zip?sv=2022-11-02&se=2030-01-01&sp=r&sig=${sig}`,
    );
    expect(out).not.toContain(sig);
    expect(out).not.toContain('Zm9vYmFyYmF6');
    expect(out).toContain('sv=2022-11-02');
    expect(out).toContain('sp=r');
  });

  it.each(['sig', 'SIG', 'signature', 'token', 'access_token', 'refresh_token', 'client_secret', 'code'])(
    'removes the value of the %s query parameter',
    (name) => {
      expect(redactUrl(`https://login.example/cb?${name}=${TOKEN}&state=1`)).not.toContain(TOKEN);
    },
  );

  it('falls back to removing embedded credentials from text that is not a URL', () => {
    const out = redactUrl(`proxy was http://alice:${PASSWORD}@proxy:8080 (from HTTPS_PROXY)`);
    expect(out).not.toContain(PASSWORD);
    expect(out).toContain('(from HTTPS_PROXY)');
  });
});

describe('redactSecrets', () => {
  it.each([
    ['a Bearer token', `Authorization: Bearer ${TOKEN}`, TOKEN],
    ['a Basic credential', `Proxy-Authorization: Basic ${BASIC}`, BASIC],
    ['a Negotiate token', `Proxy-Authorization: Negotiate ${BASIC}`, BASIC],
    ['an RSA private key', `key file:\n${pem('RSA PRIVATE KEY')}\nend`, KEY_BODY],
    ['a PKCS#8 private key', pem('PRIVATE KEY'), KEY_BODY],
    ['an encrypted private key', pem('ENCRYPTED PRIVATE KEY'), KEY_BODY],
    ['an EC private key', pem('EC PRIVATE KEY'), KEY_BODY],
    ['credentials in a URL', `dial tcp via http://alice:${PASSWORD}@proxy:8080: refused`, PASSWORD],
    ['credentials in an https URL', `upstream "https://alice:${PASSWORD}@10.0.0.5:3128"`, PASSWORD],
    ['a SAS signature', `GET https://a.blob.core.windows.net/c/b?sv=1&sig=${TOKEN}&se=2 failed`, TOKEN],
  ])('removes %s from free text', (_what, text, secret) => {
    expect(redactSecrets(text)).not.toContain(secret);
  });

  it('removes the user name of a URL too', () => {
    expect(redactSecrets(`via http://alice:${PASSWORD}@proxy:8080`)).not.toContain('alice');
  });

  it('removes every secret when a text holds several, and leaves the rest alone', () => {
    const text = `first http://alice:${PASSWORD}@p1:8080 then http://bob:other-pw@p2:8080 with Bearer ${TOKEN}`;
    const out = redactSecrets(text);
    for (const secret of [PASSWORD, 'other-pw', TOKEN, 'alice', 'bob']) expect(out).not.toContain(secret);
    expect(out).toMatch(/^first http:\/\/.*@p1:8080 then http:\/\/.*@p2:8080 with Bearer /);
  });

  it('leaves text without secrets as it was', () => {
    const text = 'CONNECT management.azure.com:443 routed direct (bypass ARM) in 12 ms';
    expect(redactSecrets(text)).toBe(text);
  });

  // Authentication schemes are case-insensitive (RFC 9110 section 11.1): `bearer` and `basic` are
  // as common in pasted headers and client libraries as `Bearer` and `Basic`.
  it.each([
    ['bearer', TOKEN],
    ['basic', BASIC],
    ['BEARER', TOKEN],
  ])('removes a credential whatever the case of its scheme (%s)', (scheme, secret) => {
    expect(redactSecrets(`authorization: ${scheme} ${secret}`)).not.toContain(secret);
  });

  // Users paste proxy URLs with an unescaped @ in the password; a URL parser takes the last @ as the
  // end of the user info (WHATWG URL), so the whole password must go, not just up to its first @.
  it('removes all of a password that holds an unescaped @', () => {
    const url = 'http://alice:p@ssw0rd@proxy.contoso.com:8080';
    expect(new URL(url).host).toBe('proxy.contoso.com:8080');
    const out = redactSecrets(`enterprise proxy ${url} refused the tunnel`);
    expect(out).not.toContain('ssw0rd');
    expect(out).toContain('proxy.contoso.com:8080 refused the tunnel');
  });
});
