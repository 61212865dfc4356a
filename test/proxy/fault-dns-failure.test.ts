// A destination name that does not resolve (RFC 6761 reserves .invalid): CONNECT and absolute-form
// GET both get 502 ARCPROXY_DNS_FAILURE, a log line and a meter count for that destination.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { rawExchange, startProxy, type TestProxy } from '../helpers/world.ts';
import { expectRefusal, logLinesWith, meterErrors } from '../helpers/faults.ts';

const CODE = 'ARCPROXY_DNS_FAILURE';
const HOST = 'nowhere.invalid';
// A resolver that cannot be reached takes a few attempts of a few seconds each before it gives up.
const RESOLVER_MS = 20_000;

describe('destination name does not resolve', () => {
  let world: TestProxy;

  beforeEach(async () => {
    world = await startProxy();
  });
  afterEach(() => world.close());

  test('CONNECT nowhere.invalid:443 gets 502', async () => {
    const raw = await rawExchange(
      world.port,
      `CONNECT ${HOST}:443 HTTP/1.1\r\nHost: ${HOST}:443\r\n\r\n`,
      RESOLVER_MS,
    );
    const { message } = expectRefusal(raw, 502, CODE);
    expect(message).toContain(`${HOST}:443`);
    expect(logLinesWith(world.lines(), CODE)).toContainEqual(
      expect.objectContaining({ destination: `${HOST}:443` }),
    );
    const entry = world.proxy.meter.snapshot().entries.find((e) => e.destination === `${HOST}:443`);
    expect(entry?.errors).toEqual({ [CODE]: 1 });
    expect(world.proxy.openTunnels).toBe(0);
  });

  test('GET http://nowhere.invalid/ gets 502', async () => {
    const raw = await rawExchange(
      world.port,
      `GET http://${HOST}/ HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`,
      RESOLVER_MS,
    );
    expectRefusal(raw, 502, CODE);
    expect(logLinesWith(world.lines(), CODE)).toContainEqual(
      expect.objectContaining({ destination: `${HOST}:80` }),
    );
    expect(meterErrors(world.proxy, CODE)).toBe(1);
  });
});
