// An https:// enterprise proxy whose certificate this machine does not trust: CONNECT and
// absolute-form GET get 502 ARCPROXY_UPSTREAM_TLS, and nothing is sent to the untrusted peer.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makePki, rawExchange, startProxy, type TestProxy } from '../helpers/world.ts';
import { readFileSync } from 'node:fs';
import {
  expectRefusal,
  logLinesWith,
  meterErrors,
  startAnsweringProxy,
  type SilentServer,
} from '../helpers/faults.ts';

const CODE = 'ARCPROXY_UPSTREAM_TLS';
const REMOTE = 'management.azure.com';

describe('TLS to the enterprise proxy fails', () => {
  let world: TestProxy;
  let corp: SilentServer;

  beforeAll(async () => {
    const pki = makePki();
    corp = await startAnsweringProxy(200, {
      tls: { cert: readFileSync(pki.certFile, 'utf8'), key: readFileSync(pki.keyFile, 'utf8') },
    });
    // No upstreamCa: the proxy's certificate is signed by a CA this process does not trust.
    world = await startProxy({ config: { 'proxy.url': `https://localhost:${corp.port}` } });
  });
  afterAll(async () => {
    await world.close();
    await corp.close();
  });

  test('CONNECT gets 502', async () => {
    const raw = await rawExchange(
      world.port,
      `CONNECT ${REMOTE}:443 HTTP/1.1\r\nHost: ${REMOTE}:443\r\n\r\n`,
    );
    const { message } = expectRefusal(raw, 502, CODE);
    expect(message).toContain(`localhost:${corp.port}`);
    expect(logLinesWith(world.lines(), CODE)).toContainEqual(
      expect.objectContaining({ destination: `${REMOTE}:443`, route: 'upstream' }),
    );
    expect(meterErrors(world.proxy, CODE)).toBe(1);
  });

  test('an absolute-form GET gets 502', async () => {
    const before = meterErrors(world.proxy, CODE);
    const raw = await rawExchange(world.port, `GET http://${REMOTE}/ HTTP/1.1\r\nHost: ${REMOTE}\r\n\r\n`);
    expectRefusal(raw, 502, CODE);
    expect(meterErrors(world.proxy, CODE)).toBe(before + 1);
    expect(corp.received().join('')).toBe('');
  });
});
