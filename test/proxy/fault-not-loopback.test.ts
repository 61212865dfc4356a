// A client whose address is not loopback gets 403 ARCPROXY_NOT_LOOPBACK before a byte of its request
// is read: the Arc Proxy listens on 127.0.0.1, but a process on this machine can still connect to
// it from another of the machine's addresses (here the host end of a veth pair the test makes).
// Loopback clients are served as before; curl is the client either way.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createNamespace, namespacesUnavailable, type Namespace } from '../helpers/netns.ts';
import { closeServer, curl, startOrigin, startProxy, type TestProxy } from '../helpers/world.ts';
import { expectRefusal, logLinesWith, meterErrors } from '../helpers/faults.ts';

const CODE = 'ARCPROXY_NOT_LOOPBACK';
const unavailable = namespacesUnavailable();

describe.skipIf(unavailable !== undefined)('a client that is not on loopback', () => {
  let ns: Namespace;
  let world: TestProxy;
  let origin: Awaited<ReturnType<typeof startOrigin>>;

  beforeAll(async () => {
    ns = createNamespace();
    origin = await startOrigin();
    world = await startProxy();
  });
  afterAll(async () => {
    await world?.close();
    if (origin) await closeServer(origin.server);
    ns?.remove();
  });

  const get = (from?: string) =>
    curl([
      '-i',
      ...(from ? ['--interface', from] : []),
      '-x',
      `http://127.0.0.1:${world.port}`,
      `http://127.0.0.1:${origin.port}/`,
    ]);

  test('gets 403 ARCPROXY_NOT_LOOPBACK, logged and counted; a loopback client is served', async () => {
    const refused = await get(ns.hostAddress);
    expect(refused.code, refused.stderr).toBe(0);
    const { message } = expectRefusal(refused.stdout, 403, CODE);
    expect(message).toContain(ns.hostAddress);
    expect(origin.seen).toHaveLength(0);
    expect(logLinesWith(world.lines(), CODE, 40)).toHaveLength(1);
    expect(meterErrors(world.proxy, CODE)).toBe(1);
    expect(world.proxy.openConnections).toBe(0);

    const served = await get();
    expect(served.stdout).toMatch(/^HTTP\/1\.1 200 /);
    expect(origin.seen).toHaveLength(1);
    expect(meterErrors(world.proxy, CODE)).toBe(1);
  });
});
