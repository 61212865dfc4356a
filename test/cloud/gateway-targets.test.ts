// What an associated machine may reach, and how the gateway says no: a target outside its list
// (TargetNotAllowed), a request that is not CONNECT host:port (BadRequest), a target that refuses or
// does not resolve (TargetUnreachable). A plain GET / is a probe and gets an answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../helpers/faults.ts';
import { curl } from '../helpers/world.ts';
import { associate, gatewayConnect } from './gateway-helpers.ts';
import { createAndRegister, startTestCloud, type Registered, type TestCloud } from './helpers.ts';

let t: TestCloud;
let m: Registered;
let auth: { cert: string; key: string };
beforeAll(async () => {
  const closed = await closedPort();
  t = await startTestCloud({
    gatewayAllow: ['closed.test:9', 'nowhere.invalid'],
    gatewayResolve: { 'closed.test': `127.0.0.1:${closed}` },
  });
  m = await createAndRegister(t, 'targets');
  auth = { cert: m.cert, key: m.keys.privateKeyPem };
  expect((await associate(t, m.id, t.cloud.gateway.id)).status).toBe(200);
});
afterAll(() => t.close());

describe('targets of the gateway', () => {
  it('refuses a target outside its list: TargetNotAllowed', async () => {
    const a = await gatewayConnect(t.cloud, 'example.com:443', auth);
    expect(a.status).toBe(403);
    expect(a.code).toBe('TargetNotAllowed');
    expect(a.body.error.message).toContain('example.com:443');
  });

  it('serves a listed host on its port only (443 when the pattern names none)', async () => {
    expect((await gatewayConnect(t.cloud, 'closed.test:10', auth)).code).toBe('TargetNotAllowed');
    expect(
      (await gatewayConnect(t.cloud, 'agentserviceapi.guestconfiguration.arc-local.test:80', auth)).code,
    ).toBe('TargetNotAllowed');
  });

  it('answers 502 TargetUnreachable when the target refuses the connection', async () => {
    const a = await gatewayConnect(t.cloud, 'closed.test:9', auth);
    expect(a.status).toBe(502);
    expect(a.code).toBe('TargetUnreachable');
    expect(a.body.error.message).toContain('ECONNREFUSED');
  });

  it('answers 502 TargetUnreachable when the name does not resolve', async () => {
    const a = await gatewayConnect(t.cloud, 'nowhere.invalid:443', auth);
    expect(a.status).toBe(502);
    expect(a.code).toBe('TargetUnreachable');
    expect(a.body.error.message).toContain('ENOTFOUND');
  });

  it.each([
    ['a CONNECT without a port', 'CONNECT login.arc-local.test HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a CONNECT to a bad name', 'CONNECT bad_host!:443 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['another method', 'POST /v1/machines/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'],
    ['not HTTP at all', 'hello gateway\r\n\r\n'],
  ])('answers 400 BadRequest to %s', async (_name, request) => {
    const a = await gatewayConnect(t.cloud, '', { ...auth, request });
    expect(a.status).toBe(400);
    expect(a.code).toBe('BadRequest');
    expect(a.body).toEqual({ error: { code: 'BadRequest', message: expect.any(String) } });
  });

  it('answers a probe (GET /) with the gateway id', async () => {
    const r = await curl([
      '--cacert',
      t.cloud.files.ca,
      '--resolve',
      `${t.cloud.gateway.host}:${t.cloud.gateway.port}:127.0.0.1`,
      `https://${t.cloud.gateway.host}:${t.cloud.gateway.port}/`,
    ]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ service: 'arc-local-gateway', id: t.cloud.gateway.id });
  });
});
