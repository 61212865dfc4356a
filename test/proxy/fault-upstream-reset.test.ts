// A destination that resets the connection (RST): an absolute-form GET gets 502
// ARCPROXY_UPSTREAM_RESET; an open tunnel is closed and counted with that code.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { eventually, rawExchange, startProxy, type TestProxy } from '../helpers/world.ts';
import {
  RawClient,
  expectRefusal,
  logLinesWith,
  meterErrors,
  startResettingServer,
  type SilentServer,
} from '../helpers/faults.ts';

const CODE = 'ARCPROXY_UPSTREAM_RESET';

describe('destination resets the connection', () => {
  let world: TestProxy;
  let resetter: SilentServer;
  let dest: string;

  beforeEach(async () => {
    resetter = await startResettingServer();
    dest = `127.0.0.1:${resetter.port}`;
    world = await startProxy();
  });
  afterEach(async () => {
    await world.close();
    await resetter.close();
  });

  test('an absolute-form GET that the destination resets gets 502', async () => {
    const raw = await rawExchange(
      world.port,
      `POST http://${dest}/ HTTP/1.1\r\nHost: ${dest}\r\nContent-Length: 2\r\n\r\nhi`,
    );
    expectRefusal(raw, 502, CODE);
    expect(resetter.received()[0]).toMatch(/^POST \/ HTTP\/1\.1\r\n/);
    expect(logLinesWith(world.lines(), CODE)).toContainEqual(expect.objectContaining({ destination: dest }));
    expect(meterErrors(world.proxy, CODE)).toBe(1);
  });

  test('a tunnel whose destination resets is closed for the client and counted', async () => {
    const { client, head } = await RawClient.tunnel(world.port, dest);
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    client.write('hello');
    await client.waitEnd(5_000);
    expect(client.text()).toBe('');
    await eventually(() => world.proxy.openTunnels === 0);
    await eventually(() => meterErrors(world.proxy, CODE) === 1);
    const entry = world.proxy.meter.snapshot().entries.find((e) => e.destination === dest);
    expect(entry).toMatchObject({ tunnels: 1, bytesSent: 5, errors: { [CODE]: 1 } });
    expect(logLinesWith(world.lines(), CODE, 20)).toContainEqual(
      expect.objectContaining({ destination: dest }),
    );
  });
});
