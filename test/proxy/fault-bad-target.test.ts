// CONNECT targets that are not host:port with a port from 1 to 65535 get 400 ARCPROXY_BAD_TARGET, a
// log line and a meter count, and no tunnel is opened.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { eventually, rawExchange, startProxy, type TestProxy } from '../helpers/world.ts';
import { expectRefusal, logLinesWith, meterErrors } from '../helpers/faults.ts';

const CODE = 'ARCPROXY_BAD_TARGET';

describe('malformed CONNECT targets', () => {
  let world: TestProxy;

  beforeEach(async () => {
    world = await startProxy();
  });
  afterEach(() => world.close());

  test.each([
    ['no port', 'example.com'],
    ['port 0', 'example.com:0'],
    ['port 70000', 'example.com:70000'],
    ['a port that is not a number', 'example.com:443x'],
    ['a negative port', 'example.com:-1'],
    ['no host', ':443'],
    ['an IPv6 literal without its closing bracket', '[::1'],
    ['an IPv6 literal with port 0', '[::1]:0'],
    ['a percent-encoded space in the host', 'a%20b:80'],
    ['a URL instead of an authority', 'http://example.com:443/'],
    ['a path instead of an authority', '/foo'],
    ['a space in the host', 'a b:80'],
  ])('%s (%s) gets 400 with ARCPROXY_BAD_TARGET', async (_name, target) => {
    const raw = await rawExchange(world.port, `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    const { action } = expectRefusal(raw, 400, CODE);
    expect(action).toContain('host:port');
    expect(logLinesWith(world.lines(), CODE)).toHaveLength(1);
    expect(meterErrors(world.proxy, CODE)).toBe(1);
    expect(world.proxy.openTunnels).toBe(0);
    await eventually(() => world.proxy.openConnections === 0);
  });
});
