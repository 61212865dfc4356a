// An enterprise proxy that answers 407: CONNECT tunnels and absolute-form GETs get 502
// ARCPROXY_UPSTREAM_PROXY_AUTH, and the password of proxy.url appears in no log line and no answer.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { rawExchange, startProxy, type TestProxy } from '../helpers/world.ts';
import {
  expectRefusal,
  logLinesWith,
  meterErrors,
  startAuthDemandingProxy,
  type SilentServer,
} from '../helpers/faults.ts';

const CODE = 'ARCPROXY_UPSTREAM_PROXY_AUTH';
const USER = 'corp-user';
const PASSWORD = 'Sup3r-s3cret-pa55';
// The password in every form it could leak: as typed, URL-encoded, and inside the Basic credentials.
const SECRETS = [
  PASSWORD,
  encodeURIComponent(PASSWORD),
  Buffer.from(`${USER}:${PASSWORD}`).toString('base64'),
];
const REMOTE_HOST = 'management.azure.com';

describe('enterprise proxy answers 407', () => {
  let world: TestProxy;
  let corp: SilentServer;

  beforeEach(async () => {
    corp = await startAuthDemandingProxy();
    world = await startProxy({
      config: { 'proxy.url': `http://${USER}:${PASSWORD}@127.0.0.1:${corp.port}` },
    });
  });
  afterEach(async () => {
    await world.close();
    await corp.close();
  });

  const expectNoSecret = (text: string) => {
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  };

  test('CONNECT gets 502 and the credentials were offered to the enterprise proxy', async () => {
    const dest = `${REMOTE_HOST}:443`;
    const raw = await rawExchange(world.port, `CONNECT ${dest} HTTP/1.1\r\nHost: ${dest}\r\n\r\n`);
    expectRefusal(raw, 502, CODE);
    expect(corp.received()[0]).toMatch(new RegExp(`^CONNECT ${dest} HTTP/1\\.1\\r\\n`));
    expect(corp.received()[0]).toContain(`Proxy-Authorization: Basic ${SECRETS[2]}\r\n`);
    expect(logLinesWith(world.lines(), CODE)).toContainEqual(
      expect.objectContaining({ destination: dest, route: 'upstream' }),
    );
    const entry = world.proxy.meter.snapshot().entries.find((e) => e.destination === dest);
    expect(entry).toMatchObject({ route: 'upstream', tunnels: 0, errors: { [CODE]: 1 } });
    expectNoSecret(raw);
    expectNoSecret(world.lines());
  });

  test('an absolute-form GET gets 502 and the credentials were offered to the enterprise proxy', async () => {
    const raw = await rawExchange(
      world.port,
      `GET http://${REMOTE_HOST}/x HTTP/1.1\r\nHost: ${REMOTE_HOST}\r\n\r\n`,
      4_000,
    );
    expectRefusal(raw, 502, CODE);
    expect(corp.received()[0]).toMatch(new RegExp(`^GET http://${REMOTE_HOST}/x HTTP/1\\.1\\r\\n`));
    expect(corp.received()[0]).toMatch(
      new RegExp(`\\r\\nproxy-authorization: Basic ${SECRETS[2]}\\r\\n`, 'i'),
    );
    expect(logLinesWith(world.lines(), CODE)).toContainEqual(
      expect.objectContaining({ destination: `${REMOTE_HOST}:80`, route: 'upstream' }),
    );
    expect(meterErrors(world.proxy, CODE)).toBe(1);
    expectNoSecret(raw);
    expectNoSecret(world.lines());
  });
});
