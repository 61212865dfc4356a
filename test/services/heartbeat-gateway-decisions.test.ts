// The gateway decisions as pure functions: what the heartbeat does with the cloud's word on the
// association (write cloudconfig.json or not, and the log line), what it does when the gateway
// refuses the machine, and connect's checks of --gateway-id / --gateway-url and of the Arc Proxy's
// /health. No sockets, no files.
import { describe, expect, it } from 'vitest';
import type { AgentError, CloudConfig, CloudProfile, GatewayConfig } from '../../core/index.ts';
import {
  decideGatewayPickup,
  decideGatewayRefused,
  decideGatewayRetry,
  sameGateway,
} from '../../services/himds/gateway-pickup.ts';
import {
  gatewayEndpointsOf,
  gatewayFlags,
  provisionalCloudConfig,
  proxyUsesGateway,
  waitForProxyGateway,
} from '../../services/himds/gateway-onboarding.ts';

const ID = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/gateways/gw1';
const G: GatewayConfig = {
  id: ID,
  url: 'https://1111.gw.arc-local.test',
  endpoints: ['management.arc-local.test', '*.his.arc-local.test'],
};
const OTHER: GatewayConfig = { ...G, id: ID.replace('gw1', 'gw2'), url: 'https://2222.gw.arc-local.test' };
const NOW = new Date('2026-11-27T10:00:00Z');
const none: CloudConfig = { gateway: null };
const withG: CloudConfig = { gateway: G, updatedAt: '2026-11-26T00:00:00Z' };

describe('heartbeat pick-up of the gateway association', () => {
  it('writes a new association, with the log line naming both sides', () => {
    expect(decideGatewayPickup(none, G, NOW)).toEqual({
      write: true,
      next: { gateway: G, updatedAt: NOW.toISOString() },
      message: `gateway association changed: none -> ${G.url}`,
    });
  });

  it('writes a removed association as no gateway', () => {
    const change = decideGatewayPickup(withG, null, NOW);
    expect(change).toMatchObject({
      write: true,
      next: { gateway: null },
      message: `gateway association changed: ${G.url} -> none`,
    });
  });

  it('writes a move to another gateway', () => {
    expect(decideGatewayPickup(withG, OTHER, NOW)).toMatchObject({
      write: true,
      next: { gateway: OTHER },
      message: `gateway association changed: ${G.url} -> ${OTHER.url}`,
    });
  });

  it('writes a change of the endpoints the same gateway serves, saying so', () => {
    const more = { ...G, endpoints: [...G.endpoints, 'login.arc-local.test'] };
    expect(decideGatewayPickup(withG, more, NOW)).toMatchObject({
      write: true,
      message: `gateway endpoints changed: ${G.url} now serves 3 patterns (was 2)`,
    });
  });

  it('keeps the file when nothing changed: same gateway, endpoints in another order or case, or both none', () => {
    const reordered = {
      ...G,
      id: ID.toUpperCase(),
      endpoints: ['*.HIS.arc-local.test', 'management.arc-local.test'],
    };
    expect(decideGatewayPickup(withG, reordered, NOW)).toEqual({ write: false });
    expect(decideGatewayPickup(none, null, NOW)).toEqual({ write: false });
    expect(sameGateway(G, reordered)).toBe(true);
    expect(sameGateway(G, null)).toBe(false);
  });

  it('keeps the file when the cloud does not speak of gateways (no field)', () => {
    expect(decideGatewayPickup(withG, undefined, NOW)).toEqual({ write: false });
  });

  it('keeps the file, with a problem to warn about, when the answer is malformed', () => {
    const change = decideGatewayPickup(withG, { id: ID, url: 'http://plain' }, NOW);
    expect(change.write).toBe(false);
    expect(change.write === false && change.problem).toContain('gateway');
  });

  it("replaces an unreadable file with the cloud's word", () => {
    expect(decideGatewayPickup(undefined, null, NOW)).toMatchObject({
      write: true,
      next: { gateway: null },
      message: 'gateway association changed: unreadable cloudconfig.json -> none',
    });
  });

  it('keeps unknown keys of the file', () => {
    const change = decideGatewayPickup({ ...none, future: 1 } as CloudConfig, G, NOW);
    expect(change.write && change.next).toMatchObject({ future: 1, gateway: G });
  });
});

describe('a gateway that refuses the machine', () => {
  it('goes without it, saying why', () => {
    const change = decideGatewayRefused(withG, 'MachineNotAssociated', NOW);
    expect(change).toMatchObject({ write: true, next: { gateway: null } });
    expect(change.write && change.message).toBe(
      `gateway association changed: ${G.url} -> none (the gateway refused this machine: MachineNotAssociated; the next heartbeat goes without it)`,
    );
  });

  it('changes nothing when there is no gateway', () => {
    expect(decideGatewayRefused(none, 'x', NOW)).toEqual({ write: false });
    expect(decideGatewayRefused(undefined, 'x', NOW)).toEqual({ write: false });
  });

  it('tries the dropped gateway again when the cloud stays out of reach without it', () => {
    expect(decideGatewayRetry(none, G, NOW)).toMatchObject({
      write: true,
      next: { gateway: G },
      message: `gateway association changed: none -> ${G.url} (the cloud cannot be reached without the gateway; trying it again)`,
    });
    expect(decideGatewayRetry(none, undefined, NOW)).toEqual({ write: false });
    // Meanwhile something else wrote a gateway: that one stands.
    expect(decideGatewayRetry({ gateway: OTHER }, G, NOW)).toEqual({ write: false });
  });
});

describe('connect --gateway-id', () => {
  it('checks the flags', () => {
    expect(gatewayFlags(undefined, undefined)).toBeUndefined();
    expect(gatewayFlags(ID, undefined)).toEqual({ id: ID, url: undefined });
    expect(gatewayFlags(ID, 'https://1111.gw.arc-local.test/')).toEqual({
      id: ID,
      url: 'https://1111.gw.arc-local.test',
    });
    expect(gatewayFlags(ID, 'https://1111.gw.arc-local.test:40444')?.url).toBe(
      'https://1111.gw.arc-local.test:40444',
    );
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as AgentError).code;
      }
      return undefined;
    };
    expect(code(() => gatewayFlags('gw1', undefined))).toBe('GATEWAY_ID_INVALID');
    expect(code(() => gatewayFlags(ID.replace('gateways', 'machines'), undefined))).toBe(
      'GATEWAY_ID_INVALID',
    );
    expect(code(() => gatewayFlags(ID, 'http://1111.gw.arc-local.test'))).toBe('ARGUMENT_INVALID');
    expect(code(() => gatewayFlags(ID, 'https://1111.gw.arc-local.test/path'))).toBe('ARGUMENT_INVALID');
    expect(code(() => gatewayFlags(ID, 'not a url'))).toBe('ARGUMENT_INVALID');
    expect(code(() => gatewayFlags(undefined, 'https://1111.gw.arc-local.test'))).toBe('MISSING_PARAMETER');
  });

  it("writes the cloud profile's allow-list as the provisional endpoints", () => {
    const cloud = {
      allow: [
        { host: 'login.arc-local.test', port: 443, purpose: '' },
        { host: '*.his.arc-local.test', port: 443, purpose: '' },
        { host: 'www.example.test', port: 80, purpose: '' },
        { host: 'login.arc-local.test', port: 443, purpose: 'again' },
      ],
    } as CloudProfile;
    expect(gatewayEndpointsOf(cloud)).toEqual([
      'login.arc-local.test',
      '*.his.arc-local.test',
      'www.example.test:80',
    ]);
    expect(provisionalCloudConfig({ id: ID, url: G.url }, cloud, NOW)).toEqual({
      gateway: { id: ID, url: G.url, endpoints: gatewayEndpointsOf(cloud) },
      updatedAt: NOW.toISOString(),
    });
  });

  it("recognises the gateway in the Arc Proxy's /health, by id or url, in either shape", () => {
    expect(proxyUsesGateway({ status: 'ok', gateway: G.url }, G)).toBe(true);
    expect(proxyUsesGateway({ gateway: `${G.url.toUpperCase()}/` }, G)).toBe(true);
    expect(proxyUsesGateway({ gateway: null }, G)).toBe(false);
    expect(proxyUsesGateway({ status: 'ok' }, G)).toBe(false);
    expect(proxyUsesGateway({ gateway: OTHER.url }, G)).toBe(false);
    expect(proxyUsesGateway(undefined, G)).toBe(false);
  });

  it('waits for the proxy to take the gateway up, and gives up after the time allowed', async () => {
    let t = 0;
    const clock = { now: () => t, sleep: (ms: number) => Promise.resolve(void (t += ms)) };
    let asked = 0;
    const later = () => Promise.resolve(++asked >= 4 ? { gateway: G.url } : { gateway: null });
    expect(await waitForProxyGateway(later, G, { ...clock, timeoutMs: 5_000, everyMs: 100 })).toBe(true);
    expect(asked).toBe(4);
    t = 0;
    const never = () => Promise.reject(new Error('no socket'));
    expect(await waitForProxyGateway(never, G, { ...clock, timeoutMs: 1_000, everyMs: 100 })).toBe(false);
    expect(t).toBe(1_000);
  });
});
