// Over limits.maxConnections, the extra client gets 503 ARCPROXY_TOO_MANY_CONNECTIONS; once others
// close, new clients are served again.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  closeServer,
  eventually,
  rawExchange,
  startOrigin,
  startProxy,
  type TestProxy,
} from '../helpers/world.ts';
import { RawClient, expectRefusal, logLinesWith, meterErrors } from '../helpers/faults.ts';

const CODE = 'ARCPROXY_TOO_MANY_CONNECTIONS';

describe('connection limit', () => {
  let world: TestProxy;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  const held: RawClient[] = [];

  beforeEach(async () => {
    origin = await startOrigin();
    world = await startProxy({ limits: { maxConnections: 3 } });
  });
  afterEach(async () => {
    for (const c of held.splice(0)) c.destroy();
    await world.close();
    await closeServer(origin.server);
  });

  const get = () =>
    rawExchange(
      world.port,
      `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nConnection: close\r\n\r\n`,
    );

  test('the connection over the limit gets 503, and service resumes once one closes', async () => {
    for (let i = 0; i < 3; i++) held.push(await RawClient.connect(world.port));
    await eventually(() => world.proxy.openConnections === 3);

    expectRefusal(await get(), 503, CODE);
    expect(origin.seen).toHaveLength(0);
    expect(logLinesWith(world.lines(), CODE)).toHaveLength(1);
    expect(meterErrors(world.proxy, CODE)).toBe(1);
    // The refused connection was never counted as open.
    expect(world.proxy.openConnections).toBe(3);

    held.pop()!.destroy();
    await eventually(() => world.proxy.openConnections === 2);
    const raw = await get();
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(origin.seen).toHaveLength(1);
    expect(meterErrors(world.proxy, CODE)).toBe(1);
  });

  test('open tunnels count against the limit too', async () => {
    const target = `127.0.0.1:${origin.port}`;
    for (let i = 0; i < 3; i++) {
      const { client, head } = await RawClient.tunnel(world.port, target);
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      held.push(client);
    }
    const { client: extra, head } = await RawClient.tunnel(world.port, target);
    held.push(extra);
    expectRefusal(head + (await extra.waitEnd()), 503, CODE);

    for (const c of held.splice(0)) c.destroy();
    await eventually(() => world.proxy.openConnections === 0 && world.proxy.openTunnels === 0);
    expect((await get()).startsWith('HTTP/1.1 200 ')).toBe(true);
  });
});
