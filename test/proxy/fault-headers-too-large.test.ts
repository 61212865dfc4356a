// A request head over limits.maxHeaderBytes is refused with 431 before anything is forwarded.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { closeServer, rawExchange, startOrigin, startProxy, type TestProxy } from '../helpers/world.ts';
import { expectRefusal, logLinesWith, meterErrors } from '../helpers/faults.ts';

const CODE = 'ARCPROXY_HEADERS_TOO_LARGE';

describe('request headers over the size limit', () => {
  let world: TestProxy;
  let origin: Awaited<ReturnType<typeof startOrigin>>;

  beforeEach(async () => {
    origin = await startOrigin();
    world = await startProxy({ limits: { maxHeaderBytes: 1024 } });
  });
  afterEach(async () => {
    await world.close();
    await closeServer(origin.server);
  });

  const get = (extra: string) =>
    `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n${extra}\r\n`;

  test('a head under the limit is forwarded (the control)', async () => {
    const raw = await rawExchange(world.port, get(`X-Pad: ${'a'.repeat(400)}\r\nConnection: close\r\n`));
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(origin.seen).toHaveLength(1);
  });

  test('an absolute-form GET with a 4 KiB header gets 431, a log line and a meter count', async () => {
    const raw = await rawExchange(world.port, get(`X-Pad: ${'a'.repeat(4096)}\r\n`));
    const { message } = expectRefusal(raw, 431, CODE);
    expect(message).toContain('1024');
    expect(origin.seen).toHaveLength(0);
    expect(logLinesWith(world.lines(), CODE)).toHaveLength(1);
    expect(meterErrors(world.proxy, CODE)).toBe(1);
  });

  test('a CONNECT with many headers adding up past the limit gets 431', async () => {
    const many = Array.from({ length: 40 }, (_, i) => `X-H${i}: ${'b'.repeat(40)}\r\n`).join('');
    const raw = await rawExchange(world.port, `CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\n${many}\r\n`);
    expectRefusal(raw, 431, CODE);
    expect(meterErrors(world.proxy, CODE)).toBe(1);
    expect(world.proxy.openTunnels).toBe(0);
  });
});
