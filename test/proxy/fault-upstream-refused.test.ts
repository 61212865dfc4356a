// A destination port with nothing listening: CONNECT and absolute-form GET both get 502
// ARCPROXY_UPSTREAM_REFUSED, a log line and a meter count for that destination.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { eventually, rawExchange, startProxy, type TestProxy } from '../helpers/world.ts';
import { closedPort, expectRefusal, logLinesWith, meterErrors } from '../helpers/faults.ts';

const CODE = 'ARCPROXY_UPSTREAM_REFUSED';

describe('destination refuses the connection', () => {
  let world: TestProxy;
  let dest: string;

  beforeEach(async () => {
    dest = `127.0.0.1:${await closedPort()}`;
    world = await startProxy();
  });
  afterEach(() => world.close());

  const entryFor = () => world.proxy.meter.snapshot().entries.find((e) => e.destination === dest);

  test('CONNECT to a closed port gets 502', async () => {
    const raw = await rawExchange(world.port, `CONNECT ${dest} HTTP/1.1\r\nHost: ${dest}\r\n\r\n`);
    const { message } = expectRefusal(raw, 502, CODE);
    expect(message).toContain(dest);
    expect(logLinesWith(world.lines(), CODE)).toContainEqual(
      expect.objectContaining({ destination: dest, route: 'direct' }),
    );
    expect(entryFor()).toMatchObject({ route: 'direct', tunnels: 0, errors: { [CODE]: 1 } });
    expect(world.proxy.openTunnels).toBe(0);
  });

  test('an absolute-form GET to a closed port gets 502', async () => {
    const raw = await rawExchange(world.port, `GET http://${dest}/x HTTP/1.1\r\nHost: ${dest}\r\n\r\n`);
    const { message } = expectRefusal(raw, 502, CODE);
    expect(message).toContain(dest);
    expect(logLinesWith(world.lines(), CODE)).toContainEqual(
      expect.objectContaining({ destination: dest, route: 'direct' }),
    );
    expect(meterErrors(world.proxy, CODE)).toBe(1);
    expect(entryFor()?.errors).toEqual({ [CODE]: 1 });
    await eventually(() => world.proxy.openConnections === 0);
  });
});
