// createLogger promises that no line carries a secret "whatever a caller passes in": each case plants
// a password, a token, an Authorization value or a private key the way a caller might, and reads
// every byte the logger wrote.
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../core/index.ts';
import { memoryLogger } from '../helpers/world.ts';

const PASSWORD = 'pw-Planted-7731';
const TOKEN = 'tok-Planted-eyJhbGciOi.8842';
const BASIC = Buffer.from(`alice:${PASSWORD}`).toString('base64');
const KEY_BODY = 'MIIEkeyPlantedBADANBgkqhkiG9w0BAQEFAASC';
const PEM = `-----BEGIN PRIVATE KEY-----\n${KEY_BODY}\n-----END PRIVATE KEY-----`;
const PROXY_URL = `http://alice:${PASSWORD}@proxy.contoso.com:8080`;
const SECRETS = [PASSWORD, TOKEN, BASIC, KEY_BODY];

/** Logs with a fresh memory logger and returns every line written, each checked to be JSON. */
function linesOf(write: (log: Logger) => void): string {
  const { log, lines } = memoryLogger('debug');
  write(log);
  const out = lines();
  expect(out.length).toBeGreaterThan(0);
  for (const line of out.trim().split('\n')) expect(() => JSON.parse(line) as unknown).not.toThrow();
  return out;
}

function expectNoSecret(out: string): void {
  for (const secret of SECRETS) expect(out, `the line holds ${secret}`).not.toContain(secret);
}

describe('createLogger keeps secrets out of its lines', () => {
  it.each<[string, (log: Logger) => void]>([
    ['a proxy URL in the message', (log) => log.info(`connecting through ${PROXY_URL}`)],
    ['a Bearer header in the message', (log) => log.warn(`sent Authorization: Bearer ${TOKEN}`)],
    ['a Basic header in the message', (log) => log.warn(`sent Proxy-Authorization: Basic ${BASIC}`)],
    ['a private key in the message', (log) => log.error(`bad key:\n${PEM}`)],
    ['a password field', (log) => log.info({ password: PASSWORD }, 'login')],
    ['a token field', (log) => log.info({ token: TOKEN, access_token: TOKEN }, 'token')],
    ['a client_secret field', (log) => log.info({ client_secret: PASSWORD }, 'app')],
    ['headers.authorization', (log) => log.info({ headers: { authorization: `Bearer ${TOKEN}` } }, 'req')],
    ['a proxy-authorization field', (log) => log.info({ 'proxy-authorization': `Basic ${BASIC}` }, 'req')],
    [
      'req.headers.proxy-authorization',
      (log) => log.info({ req: { headers: { 'proxy-authorization': `Basic ${BASIC}` } } }, 'req'),
    ],
    ['a private key field', (log) => log.info({ privateKey: PEM, private_key: PEM }, 'cert')],
    ['a URL string field', (log) => log.info({ upstream: PROXY_URL }, 'route')],
    ['a URL object field', (log) => log.info({ upstream: new URL(PROXY_URL) }, 'route')],
    ['a config key field', (log) => log.info({ 'proxy.url': PROXY_URL }, 'config')],
    ['a URL as a %s argument', (log) => log.info('upstream %s ready', PROXY_URL)],
    ['a child logger field', (log) => log.child({ conn: 1 }).info({ password: PASSWORD }, 'x')],
    // What the cases above share is that the secret sits at the top of the object or in the message.
    // The cases below put it one step further, where callers put it just as often.
    ['a URL one object down', (log) => log.info({ proxy: { url: PROXY_URL } }, 'route')],
    ['a URL in an array', (log) => log.info({ proxies: [PROXY_URL] }, 'candidates')],
    ['a password two objects down', (log) => log.info({ job: { auth: { password: PASSWORD } } }, 'job')],
    [
      'Authorization spelt as in outgoing request headers',
      (log) => log.info({ headers: { Authorization: `Bearer ${TOKEN}` } }, 'outgoing'),
    ],
    [
      'Proxy-Authorization spelt as in outgoing request headers',
      (log) => log.info({ headers: { 'Proxy-Authorization': `Basic ${BASIC}` } }, 'outgoing'),
    ],
    ['a Token field', (log) => log.info({ Token: TOKEN }, 'x')],
    [
      'an error whose message holds a proxy URL',
      (log) => log.error({ err: new Error(`dial ${PROXY_URL}`) }, 'x'),
    ],
    ['an error logged on its own', (log) => log.error(new Error(`dial ${PROXY_URL} failed`))],
    ['a URL in a child logger binding', (log) => log.child({ upstream: PROXY_URL }).info('tunnel open')],
    ['a URL object as a %s argument', (log) => log.info('upstream %s ready', new URL(PROXY_URL))],
    ['an object as a %o argument', (log) => log.info('route %o', { upstream: PROXY_URL })],
    ['an object as a %j argument', (log) => log.info('route %j', { upstream: PROXY_URL })],
    ['a lower-case bearer header in the message', (log) => log.warn(`authorization: bearer ${TOKEN}`)],
  ])('never writes a secret passed as %s', (_how, write) => {
    expectNoSecret(linesOf(write));
  });

  it('still says what happened and where, with REDACTED in place of the secret', () => {
    const out = linesOf((log) => log.info({ upstream: PROXY_URL, password: PASSWORD }, 'tunnel open'));
    const line = JSON.parse(out) as Record<string, unknown>;
    expect(line['msg']).toBe('tunnel open');
    expect(line['upstream']).toMatch(/^http:\/\/REDACTED@proxy\.contoso\.com:8080/);
    expect(line['password']).toBe('REDACTED');
  });

  it("keeps each child logger's fields, down to a grandchild, with the secrets gone", () => {
    const out = linesOf((log) => log.child({ conn: 7 }).child({ upstream: PROXY_URL }).info('tunnel open'));
    expectNoSecret(out);
    expect(JSON.parse(out)).toMatchObject({ conn: 7, msg: 'tunnel open' });
    expect(out).toContain('proxy.contoso.com:8080');
  });

  // A caller logs objects it goes on using (a configuration, request options). If logging rewrote
  // them, a logged proxy.url would become http://REDACTED@... and the enterprise proxy would then
  // receive "REDACTED" as the user name.
  it("leaves the caller's object as it was", () => {
    const config = { 'proxy.url': PROXY_URL, headers: { authorization: `Bearer ${TOKEN}` } };
    linesOf((log) => log.info(config, 'configuration applied'));
    expect(config).toEqual({ 'proxy.url': PROXY_URL, headers: { authorization: `Bearer ${TOKEN}` } });
  });
});
