// What a failed tunnel through the Arc gateway says, against the local cloud's real gateway: each
// failure class with its stable code, the gateway's own reason, and the fix a user can apply.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentError } from '../../core/index.ts';
import {
  openGatewayTunnel,
  parseUpstreamProxy,
  type GatewayTunnelOptions,
  type Target,
} from '../../gateway-client/index.ts';
import { machinePath } from '../cloud/helpers.ts';
import { closedPort, startAnsweringProxy } from '../helpers/faults.ts';
import { closeServer, startEcho } from '../helpers/world.ts';
import { startGatewayWorld, startInspectingBox, type GatewayWorld } from './world.ts';

let w: GatewayWorld;
let echo: Awaited<ReturnType<typeof startEcho>>;
let refusingPort: number;
const ECHO = 'echo.test';
const CLOSED = 'closed.test';
const NOWHERE = 'no-such-host.invalid';

beforeAll(async () => {
  echo = await startEcho();
  refusingPort = await closedPort();
  w = await startGatewayWorld({ [ECHO]: echo.port, [CLOSED]: refusingPort }, { allow: [`${NOWHERE}:443`] });
});
afterAll(async () => {
  await w.close();
  await closeServer(echo.server);
});

const options = (extra: Partial<GatewayTunnelOptions> = {}): GatewayTunnelOptions => ({
  resolve: w.resolve,
  ca: w.ca,
  connectTimeoutMs: 10_000,
  ...extra,
});

/** The error a tunnel attempt fails with. */
async function failure(target: Target, opts: GatewayTunnelOptions): Promise<AgentError> {
  try {
    const t = await openGatewayTunnel(w.gateway, target, opts);
    t.socket.destroy();
  } catch (err) {
    return err as AgentError;
  }
  throw new Error(`the tunnel to ${target.host}:${target.port} opened`);
}

describe('the gateway refuses the machine', () => {
  it('without a certificate (before connect), a target that is not an onboarding endpoint: connect first', async () => {
    const err = await failure({ host: ECHO, port: echo.port }, options());
    expect(err.code).toBe('GATEWAY_CLIENT_CERT_REFUSED');
    expect(err.exitCode).toBe(26);
    expect(err.status).toBe(502);
    expect(err.message).toContain('ClientCertificateRequired');
    expect(err.action).toContain(`azcmagent connect --gateway-id ${w.gateway.id}`);
  });

  it('a machine that is not associated with this gateway: associate it, or go direct', async () => {
    const m = await w.machine('refused-not-associated');
    const err = await failure({ host: ECHO, port: echo.port }, options({ identity: m.identity }));
    expect(err.code).toBe('GATEWAY_CLIENT_CERT_REFUSED');
    expect(err.message).toContain('MachineNotAssociated');
    expect(err.action).toContain(`--gateway-resource-id ${w.gateway.id}`);
    expect(err.action).toContain('azcmagent config set connection.type direct');
  });

  it('a machine deleted in Azure (its certificate revoked): reconnect', async () => {
    const m = await w.machine('refused-deleted');
    await w.associate(m, w.gateway.id);
    const del = await w.t.call(machinePath(w.t, 'refused-deleted').path, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await w.t.spToken()}` },
    });
    expect(del.status).toBe(200);
    const err = await failure({ host: ECHO, port: echo.port }, options({ identity: m.identity }));
    expect(err.code).toBe('GATEWAY_CLIENT_CERT_REFUSED');
    expect(err.message).toContain('InvalidClientCertificate');
    expect(err.action).toContain('azcmagent disconnect --force-local-only, then azcmagent connect');
  });
});

describe('the gateway refuses or fails the target', () => {
  let identity: GatewayTunnelOptions['identity'];
  beforeAll(async () => {
    const m = await w.machine('refused-targets');
    await w.associate(m, w.gateway.id);
    identity = m.identity;
  });

  it('a target it does not serve: GATEWAY_TARGET_NOT_SERVED, with the gateway.bypass command for it', async () => {
    const err = await failure({ host: 'example.org', port: 8443 }, options({ identity }));
    expect(err.code).toBe('GATEWAY_TARGET_NOT_SERVED');
    expect(err.message).toContain('TargetNotAllowed');
    expect(err.action).toContain('azcmagent config set gateway.bypass example.org:8443 --add');
  });

  it('a served target that refuses the connection: ARCPROXY_UPSTREAM_REFUSED', async () => {
    const err = await failure({ host: CLOSED, port: refusingPort }, options({ identity }));
    expect(err.code).toBe('ARCPROXY_UPSTREAM_REFUSED');
    expect(err.message).toContain('TargetUnreachable');
  });

  it('a served name that does not resolve at the gateway: ARCPROXY_DNS_FAILURE', async () => {
    const err = await failure({ host: NOWHERE, port: 443 }, options({ identity }));
    expect(err.code).toBe('ARCPROXY_DNS_FAILURE');
  });
});

describe('the way to the gateway fails', () => {
  it('nothing listens where the gateway should be: GATEWAY_UNREACHABLE', async () => {
    const resolve = { ...w.resolve, [w.gateway.host]: `127.0.0.1:${await closedPort()}` };
    const err = await failure({ host: 'login.arc-local.test', port: 443 }, options({ resolve }));
    expect(err.code).toBe('GATEWAY_UNREACHABLE');
    expect(err.message).toContain(`${w.gateway.host}:443`);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('an enterprise proxy that cannot reach the gateway (502): GATEWAY_UNREACHABLE naming the proxy, redacted', async () => {
    const corp = await startAnsweringProxy(502);
    try {
      const via = parseUpstreamProxy(`http://bob:hunter2@127.0.0.1:${corp.port}`);
      const err = await failure({ host: 'login.arc-local.test', port: 443 }, options({ via }));
      expect(err.code).toBe('GATEWAY_UNREACHABLE');
      expect(err.message).toContain('answered 502');
      expect(JSON.stringify(err.toJSON())).not.toContain('hunter2');
      expect(corp.received()[0]).toMatch(new RegExp(`^CONNECT ${w.gateway.host}:443 `));
    } finally {
      await corp.close();
    }
  });

  it('a TLS-inspecting box in the path: GATEWAY_TLS_INSPECTION naming its CA; the CONNECT never reaches it', async () => {
    const [address, port] = w.resolve[w.gateway.host]!.split(':');
    const box = await startInspectingBox({
      hosts: [w.gateway.host],
      upstream: { host: address!, port: Number(port), servername: w.gateway.host },
      upstreamCa: w.ca,
    });
    try {
      const resolve = { ...w.resolve, [w.gateway.host]: `127.0.0.1:${box.port}` };
      const err = await failure({ host: 'login.arc-local.test', port: 443 }, options({ resolve }));
      expect(err.code).toBe('GATEWAY_TLS_INSPECTION');
      expect(err.message).toContain(box.caName);
      expect(err.action).toContain('exempt *.gw.arc-local.test from TLS inspection');
      expect(box.seen()).toBe('');
    } finally {
      await box.close();
    }
  });
});
