// Failures on the gateway route as a client of the Arc Proxy sees them, against the local cloud's
// real gateway: 502 with the stable code in X-Arc-Proxy-Error, the fix in the body, a log line and a
// meter count under route `gateway`, for CONNECT and absolute-form requests alike. Then the fix for a
// target the gateway does not serve, applied live: gateway.bypass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientIdentity } from '../../gateway-client/index.ts';
import { RawClient, closedPort, expectRefusal, logLinesWith, meterErrors } from '../helpers/faults.ts';
import { closeServer, eventually, rawExchange, startEcho } from '../helpers/world.ts';
import {
  startAgentProxy,
  startGatewayWorld,
  startInspectingBox,
  type AgentProxy,
  type GatewayWorld,
} from '../gateway-client/world.ts';

const ECHO = 'echo.test';
let w: GatewayWorld;
let echo: Awaited<ReturnType<typeof startEcho>>;
let associated: ClientIdentity;
let dest: string;

beforeAll(async () => {
  echo = await startEcho();
  dest = `${ECHO}:${echo.port}`;
  w = await startGatewayWorld({ [ECHO]: echo.port });
  const m = await w.machine('faults-associated');
  await w.associate(m, w.gateway.id);
  associated = m.identity;
});
afterAll(async () => {
  await w?.close();
  await closeServer(echo.server);
});

const connect = (p: AgentProxy, target = dest) =>
  rawExchange(p.port, `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
const get = (p: AgentProxy, target = dest) =>
  rawExchange(p.port, `GET http://${target}/x HTTP/1.1\r\nHost: ${target}\r\n\r\n`);

/** Both kinds of request fail with `code`; it is logged and counted under route gateway. */
async function expectGatewayFailure(p: AgentProxy, code: string) {
  const tunnel = expectRefusal(await connect(p), 502, code);
  const forward = expectRefusal(await get(p), 502, code);
  expect(forward).toEqual(tunnel);
  expect(logLinesWith(p.lines(), code)).toContainEqual(
    expect.objectContaining({ destination: dest, route: 'gateway' }),
  );
  expect(meterErrors(p.service.proxy, code)).toBe(2);
  expect(p.service.proxy.meter.snapshot().entries.map((e) => e.route)).toEqual(['gateway']);
  return tunnel;
}

/** The proxy logged that it applied a configuration with a gateway.bypass entry. */
const gatewayBypassApplied = (p: AgentProxy) =>
  p
    .lines()
    .split('\n')
    .some((l) => l.includes('arcproxy configuration applied') && l.includes('"bypass":["unserved.test'));

describe('a client of the Arc Proxy in gateway mode', () => {
  it('gets GATEWAY_UNREACHABLE when nothing listens where the gateway should be', async () => {
    const p = await startAgentProxy(w, {
      identity: associated,
      resolve: { [w.gateway.host]: `127.0.0.1:${await closedPort()}` },
    });
    try {
      const { message } = await expectGatewayFailure(p, 'GATEWAY_UNREACHABLE');
      expect(message).toContain(w.gateway.host);
    } finally {
      await p.close();
    }
  });

  it('gets GATEWAY_TLS_INSPECTION naming the inspecting CA when a TLS-terminating box sits in the path', async () => {
    const [address, port] = w.resolve[w.gateway.host]!.split(':');
    const box = await startInspectingBox({
      hosts: [w.gateway.host],
      upstream: { host: address!, port: Number(port), servername: w.gateway.host },
      upstreamCa: w.ca,
    });
    const p = await startAgentProxy(w, {
      identity: associated,
      resolve: { [w.gateway.host]: `127.0.0.1:${box.port}` },
    });
    try {
      const { message, action } = await expectGatewayFailure(p, 'GATEWAY_TLS_INSPECTION');
      expect(message).toContain(box.caName);
      expect(action).toContain('*.gw.arc-local.test');
      expect(box.seen()).not.toContain('CONNECT');
    } finally {
      await p.close();
      await box.close();
    }
  });

  it('gets GATEWAY_CLIENT_CERT_REFUSED, with the reason, for a machine not associated with the gateway', async () => {
    const m = await w.machine('faults-not-associated');
    const p = await startAgentProxy(w, { identity: m.identity });
    try {
      const { message, action } = await expectGatewayFailure(p, 'GATEWAY_CLIENT_CERT_REFUSED');
      expect(message).toContain('MachineNotAssociated');
      expect(action).toContain(w.gateway.id);
    } finally {
      await p.close();
    }
  });

  it('gets GATEWAY_TARGET_NOT_SERVED with the gateway.bypass command; applied live, the target goes direct', async () => {
    // cloudconfig.json lists a destination the gateway does not actually serve.
    const unserved = `unserved.test:${echo.port}`;
    const p = await startAgentProxy(w, {
      identity: associated,
      cloudConfig: w.cloudConfig([unserved]),
      resolve: { 'unserved.test': `127.0.0.1:${echo.port}` },
    });
    try {
      const { action } = expectRefusal(await connect(p, unserved), 502, 'GATEWAY_TARGET_NOT_SERVED');
      expect(action).toBe(
        `send it around the gateway (through proxy.url, or direct): azcmagent config set gateway.bypass ${unserved} --add`,
      );
      await p.setConfig({ 'gateway.bypass': [unserved] });
      await eventually(() => gatewayBypassApplied(p));
      const { client, head } = await RawClient.tunnel(p.port, unserved);
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      client.write('around the gateway');
      expect((await client.readBytes(18)).toString()).toBe('around the gateway');
      client.destroy();
      await eventually(() => p.service.proxy.meter.snapshot().entries.some((e) => e.route === 'direct'));
      const routes = p.service.proxy.meter.snapshot().entries.map((e) => [e.route, e.tunnels, e.errors]);
      expect(routes).toContainEqual(['gateway', 0, { GATEWAY_TARGET_NOT_SERVED: 1 }]);
      expect(routes).toContainEqual(['direct', 1, {}]);
    } finally {
      await p.close();
    }
  });
});
