// Requests the proxy cannot parse or will not forward get 400 ARCPROXY_BAD_REQUEST, a log line and a
// meter count, and nothing reaches a destination.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  closeServer,
  eventually,
  rawExchange,
  startOrigin,
  startProxy,
  type TestProxy,
} from '../helpers/world.ts';
import { expectRefusal, logLinesWith, meterErrors } from '../helpers/faults.ts';

const CODE = 'ARCPROXY_BAD_REQUEST';

describe('malformed requests', () => {
  let world: TestProxy;
  let origin: Awaited<ReturnType<typeof startOrigin>>;

  beforeAll(async () => {
    origin = await startOrigin();
  });
  afterAll(() => closeServer(origin.server));
  beforeEach(async () => {
    world = await startProxy();
  });
  afterEach(() => world.close());

  const dest = () => `127.0.0.1:${origin.port}`;
  const cases: [string, () => string][] = [
    ['an unknown method', () => 'HELLO\r\n\r\n'],
    ['a request line without a target', () => 'GET\r\n\r\n'],
    ['a request line with an extra token', () => `GET http://${dest()}/ HTTP/1.1 extra\r\n\r\n`],
    ['a protocol that is not HTTP', () => `GET http://${dest()}/ FTP/1.1\r\n\r\n`],
    ['a space inside the URL', () => `GET http://exa mple.com/ HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['a TLS ClientHello sent to the plain-text proxy', () => '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03'],
    ['a header line without a colon', () => `GET http://${dest()}/ HTTP/1.1\r\nHost ${dest()}\r\n\r\n`],
    [
      'two different Content-Length headers',
      () =>
        `POST http://${dest()}/ HTTP/1.1\r\nHost: ${dest()}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab`,
    ],
    [
      'both Content-Length and Transfer-Encoding (a smuggling attempt)',
      () =>
        `POST http://${dest()}/ HTTP/1.1\r\nHost: ${dest()}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ],
    [
      'a Transfer-Encoding that does not end in chunked',
      () => `POST http://${dest()}/ HTTP/1.1\r\nHost: ${dest()}\r\nTransfer-Encoding: gzip\r\n\r\n`,
    ],
    [
      'a folded header line',
      () => `GET http://${dest()}/ HTTP/1.1\r\nHost: ${dest()}\r\nX-A: 1\r\n 2\r\n\r\n`,
    ],
    ['a bare LF ending a line', () => `GET http://${dest()}/ HTTP/1.1\nHost: ${dest()}\r\n\r\n`],
    ['an ftp:// absolute URL', () => `GET ftp://${dest()}/ HTTP/1.1\r\nHost: ${dest()}\r\n\r\n`],
    [
      'an https:// absolute URL (that needs CONNECT)',
      () => `GET https://${dest()}/ HTTP/1.1\r\nHost: x\r\n\r\n`,
    ],
    [
      'a protocol upgrade',
      () =>
        `GET http://${dest()}/ HTTP/1.1\r\nHost: ${dest()}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
    ],
  ];

  test.each(cases)('%s gets 400, a log line and a meter count', async (_name, request) => {
    const before = origin.seen.length;
    expectRefusal(await rawExchange(world.port, request()), 400, CODE);
    expect(origin.seen.length).toBe(before);
    expect(logLinesWith(world.lines(), CODE)).toHaveLength(1);
    expect(meterErrors(world.proxy, CODE)).toBe(1);
    await eventually(() => world.proxy.openConnections === 0);
  });

  test('an origin-form request for a path the proxy does not serve gets 400, a log line and a meter count', async () => {
    const raw = await rawExchange(world.port, 'GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n');
    const { message } = expectRefusal(raw, 400, CODE);
    expect(message).toContain('/index.html');
    expect(logLinesWith(world.lines(), CODE)).toHaveLength(1);
    expect(meterErrors(world.proxy, CODE)).toBe(1);
  });
});
