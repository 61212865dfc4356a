// redactDocument and redactText decide what of the agent's files may leave the machine in a support
// bundle: each case plants a secret the way a file would hold it, and checks what is kept beside it.
import { describe, expect, it } from 'vitest';
import { isSecretName, redactDocument, redactText } from '../../core/index.ts';

const PASSWORD = 'pw-Planted-5521';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtYWNoaW5lIn0.c2lnbmF0dXJlLXBsYW50ZWQ';
const KEY_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCPlanted';
const PEM = `-----BEGIN PRIVATE KEY-----\n${KEY_BODY}\n-----END PRIVATE KEY-----`;

describe('redactDocument', () => {
  it('removes credentials from proxy.url but keeps the proxy host, and keeps proxy.bypass', () => {
    const out = JSON.stringify(
      redactDocument({
        'proxy.url': `http://alice:${PASSWORD}@proxy.contoso.com:8080`,
        'proxy.bypass': ['ARM', 'Arc'],
        'arcproxy.allowlist.mode': 'enforce',
      }),
    );
    expect(out).not.toContain(PASSWORD);
    expect(out).not.toContain('alice');
    expect(out).toContain('proxy.contoso.com:8080');
    expect(out).toContain('"proxy.bypass":["ARM","Arc"]');
    expect(out).toContain('"arcproxy.allowlist.mode":"enforce"');
  });

  it('replaces values under secret names at any depth, whatever they look like', () => {
    const out = redactDocument({
      resourceName: 'web-01',
      certificateThumbprint: 'AB12CD',
      accessToken: 'opaque-not-a-jwt',
      nested: { auth: { client_secret: 'xyz', password: 7 }, list: [{ refreshToken: 'r' }] },
      privateKey: PEM,
      'service-principal-secret': 's',
    });
    expect(out).toEqual({
      resourceName: 'web-01',
      certificateThumbprint: 'AB12CD',
      accessToken: 'REDACTED',
      nested: {
        auth: { client_secret: 'REDACTED', password: 'REDACTED' },
        list: [{ refreshToken: 'REDACTED' }],
      },
      privateKey: 'REDACTED',
      'service-principal-secret': 'REDACTED',
    });
  });

  it('scrubs secrets inside strings under ordinary names', () => {
    const out = JSON.stringify(redactDocument({ errorDetails: `got Bearer ${JWT} and ${PEM}` }));
    expect(out).not.toContain(JWT);
    expect(out).not.toContain(KEY_BODY);
    expect(out).toContain('got Bearer');
  });

  it('tells secret names from look-alikes', () => {
    for (const n of [
      'password',
      'proxyPassword',
      'client_secret',
      'token',
      'accessToken',
      'private_key',
      'key',
    ])
      expect(isSecretName(n), n).toBe(true);
    for (const n of ['proxy.bypass', 'bypass', 'certificateThumbprint', 'publicKey', 'keyFile', 'resourceId'])
      expect(isSecretName(n), n).toBe(false);
  });
});

describe('redactText', () => {
  it.each([
    ['a bearer header', `Authorization: Bearer ${JWT}`, JWT],
    ['a bare JWT', `token was ${JWT} then`, JWT],
    ['a PEM private key', `key:\n${PEM}\nend`, KEY_BODY],
    ['a proxy URL with credentials', `via http://alice:${PASSWORD}@proxy:8080/`, PASSWORD],
    ['a JSON pair', `{"client_secret":"${PASSWORD}","ok":1}`, PASSWORD],
    ['a key=value pair', `login password=${PASSWORD} user=bob`, PASSWORD],
    ['a SAS signature', `GET https://st.blob.core.windows.net/c/b?sv=1&sig=${PASSWORD}`, PASSWORD],
  ])('removes %s and keeps the text around it', (_what, text, secret) => {
    const out = redactText(text);
    expect(out).not.toContain(secret);
    expect(out).toContain('REDACTED');
    expect(out.slice(0, 4)).toBe(text.slice(0, 4));
  });

  it('leaves ordinary log lines alone', () => {
    const line = '{"level":40,"client":"extd","destination":"management.azure.com:443","msg":"would deny"}\n';
    expect(redactText(line)).toBe(line);
  });
});
