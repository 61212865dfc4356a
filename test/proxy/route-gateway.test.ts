// decideRoute with an Arc gateway, rule by rule, without sockets: when the gateway is in effect
// (connection.type and cloudconfig.json), what it serves, gateway.bypass, proxy.bypass ignored, and
// what buildPolicy reports as problems.
import { describe, expect, it } from 'vitest';
import { AzureCloud, defaultConfig, type CloudConfig, type LocalConfig } from '../../core/index.ts';
import { buildPolicy, decideRoute, gatewayInEffect } from '../../proxy/index.ts';

const GATEWAY = {
  id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/gateways/gw1',
  url: 'https://1be59945.gw.arc.azure.com',
  endpoints: [
    'management.azure.com',
    '*.his.arc.azure.com',
    'login.microsoftonline.com',
    '*.obo.arc.azure.com:8084',
    'www.microsoft.com:80',
    '127.0.0.1',
    '1be59945.gw.arc.azure.com',
  ],
};
const WITH_GATEWAY: CloudConfig = { gateway: GATEWAY };
const NO_GATEWAY: CloudConfig = { gateway: null };

const build = (config: Partial<LocalConfig>, cloudConfig: CloudConfig = WITH_GATEWAY, envProxy?: string) =>
  buildPolicy({ config: { ...defaultConfig(), ...config }, cloud: AzureCloud, cloudConfig, envProxy });

const route = (host: string, port: number, config: Partial<LocalConfig> = {}, cloudConfig = WITH_GATEWAY) =>
  decideRoute({ host, port }, 'himds', build(config, cloudConfig).policy);

const kind = (host: string, port: number, config: Partial<LocalConfig> = {}, cloudConfig = WITH_GATEWAY) =>
  route(host, port, config, cloudConfig).kind;

describe('when the gateway is in effect', () => {
  it('connection.type default (the default) uses the gateway cloudconfig.json names', () => {
    expect(defaultConfig()['connection.type']).toBe('default');
    expect(route('management.azure.com', 443)).toEqual({
      kind: 'gateway',
      gateway: { id: GATEWAY.id, url: GATEWAY.url, host: '1be59945.gw.arc.azure.com', port: 443 },
      via: undefined,
      wouldDeny: false,
    });
  });

  it('connection.type default without a gateway in cloudconfig.json goes direct, and is no problem', () => {
    expect(kind('management.azure.com', 443, {}, NO_GATEWAY)).toBe('direct');
    expect(build({}, NO_GATEWAY).problems).toEqual([]);
    expect(build({}, NO_GATEWAY).policy.gateway).toBeUndefined();
  });

  it('a policy built without a cloudconfig.json has no gateway', () => {
    const { policy } = buildPolicy({ config: defaultConfig(), cloud: AzureCloud, envProxy: undefined });
    expect(policy.gateway).toBeUndefined();
  });

  it('connection.type direct never uses the gateway, even when one is named', () => {
    expect(kind('management.azure.com', 443, { 'connection.type': 'direct' })).toBe('direct');
    expect(
      kind('management.azure.com', 443, {
        'connection.type': 'direct',
        'proxy.url': 'http://proxy.corp:8080',
      }),
    ).toBe('upstream');
    expect(build({ 'connection.type': 'direct' }).problems).toEqual([]);
  });

  it('connection.type gateway uses the gateway when one is named', () => {
    expect(kind('management.azure.com', 443, { 'connection.type': 'gateway' })).toBe('gateway');
  });

  it('connection.type gateway without a gateway falls back to direct or the enterprise proxy, and says so', () => {
    expect(kind('management.azure.com', 443, { 'connection.type': 'gateway' }, NO_GATEWAY)).toBe('direct');
    const built = build({ 'connection.type': 'gateway', 'proxy.url': 'http://proxy.corp:8080' }, NO_GATEWAY);
    expect(decideRoute({ host: 'management.azure.com', port: 443 }, 'x', built.policy).kind).toBe('upstream');
    expect(built.problems).toEqual([expect.stringContaining('names no Arc gateway')]);
  });

  it('gatewayInEffect is the same rule, for show and check', () => {
    expect(gatewayInEffect('default', WITH_GATEWAY)).toBe(true);
    expect(gatewayInEffect('gateway', WITH_GATEWAY)).toBe(true);
    expect(gatewayInEffect('direct', WITH_GATEWAY)).toBe(false);
    expect(gatewayInEffect('default', NO_GATEWAY)).toBe(false);
    expect(gatewayInEffect('gateway', NO_GATEWAY)).toBe(false);
  });

  it('a gateway URL that is not https:// is not used, and is reported', () => {
    const built = build({}, { gateway: { ...GATEWAY, url: 'http://1be59945.gw.arc.azure.com' } });
    expect(built.policy.gateway).toBeUndefined();
    expect(built.problems).toEqual([expect.stringContaining('not an https:// URL')]);
  });

  it('takes the port from the gateway URL, 443 when it names none', () => {
    const { policy } = build({}, { gateway: { ...GATEWAY, url: 'https://GW.arc-local.test:40444' } });
    expect(policy.gateway?.gateway).toMatchObject({ host: 'gw.arc-local.test', port: 40444 });
  });
});

describe('per destination, in gateway mode', () => {
  it('loopback destinations go direct, even when the gateway lists them', () => {
    expect(kind('127.0.0.1', 443, { 'proxy.url': 'http://proxy.corp:8080' })).toBe('direct');
    expect(kind('localhost', 8080)).toBe('direct');
  });

  it('served patterns: host on 443 when no port is named, host:port, *.domain (not the domain itself), *.domain:port', () => {
    expect(kind('management.azure.com', 443)).toBe('gateway');
    expect(kind('management.azure.com', 80)).toBe('direct');
    expect(kind('www.microsoft.com', 80)).toBe('gateway');
    expect(kind('www.microsoft.com', 443)).toBe('direct');
    expect(kind('eastus.his.arc.azure.com', 443)).toBe('gateway');
    expect(kind('his.arc.azure.com', 443)).toBe('direct');
    expect(kind('eastus.obo.arc.azure.com', 8084)).toBe('gateway');
    expect(kind('eastus.obo.arc.azure.com', 443)).toBe('direct');
  });

  it('destinations the gateway does not serve go through the enterprise proxy, or direct', () => {
    expect(kind('example.com', 443)).toBe('direct');
    expect(kind('example.com', 443, { 'proxy.url': 'http://proxy.corp:8080' })).toBe('upstream');
  });

  it('served destinations go through the gateway inside a CONNECT to the enterprise proxy when one is set', () => {
    const viaConfig = route('management.azure.com', 443, { 'proxy.url': 'http://u:p@proxy.corp:8080' });
    expect(viaConfig.kind).toBe('gateway');
    if (viaConfig.kind !== 'gateway') throw new Error('unreachable');
    expect(viaConfig.via?.url.host).toBe('proxy.corp:8080');
    expect(viaConfig.via?.display).not.toContain('p@');
    const viaEnv = decideRoute(
      { host: 'management.azure.com', port: 443 },
      'x',
      build({}, WITH_GATEWAY, 'http://env.proxy:3128').policy,
    );
    expect(viaEnv.kind === 'gateway' && viaEnv.via?.url.host).toBe('env.proxy:3128');
  });

  it('gateway.bypass sends a served destination around the gateway: through the enterprise proxy, or direct', () => {
    const bypass: Partial<LocalConfig> = {
      'gateway.bypass': ['management.azure.com:443', '*.his.arc.azure.com'],
    };
    expect(kind('management.azure.com', 443, bypass)).toBe('direct');
    expect(kind('eastus.his.arc.azure.com', 443, bypass)).toBe('direct');
    expect(kind('login.microsoftonline.com', 443, bypass)).toBe('gateway');
    expect(kind('management.azure.com', 443, { ...bypass, 'proxy.url': 'http://proxy.corp:8080' })).toBe(
      'upstream',
    );
  });

  it('proxy.bypass is ignored in gateway mode, and the policy says so', () => {
    const config: Partial<LocalConfig> = {
      'proxy.url': 'http://proxy.corp:8080',
      'proxy.bypass': ['ARM', 'AAD'],
    };
    // Served: through the gateway, not direct.
    expect(kind('management.azure.com', 443, config)).toBe('gateway');
    // Not served, in a bypassed category: through the enterprise proxy, not direct.
    expect(kind('login.windows.net', 443, config)).toBe('upstream');
    expect(build(config).problems).toEqual([expect.stringContaining('proxy.bypass (ARM, AAD) is ignored')]);
    // Without the gateway, the same setting sends them direct.
    expect(kind('login.windows.net', 443, { ...config, 'connection.type': 'direct' })).toBe('direct');
  });

  it('the gateway itself is never reached through itself', () => {
    expect(kind('1be59945.gw.arc.azure.com', 443)).toBe('direct');
    expect(kind('1be59945.gw.arc.azure.com', 443, { 'proxy.url': 'http://proxy.corp:8080' })).toBe(
      'upstream',
    );
  });

  it('the allow-list applies first: enforce denies what the gateway would serve, audit marks it', () => {
    const served = { endpoints: [...GATEWAY.endpoints, 'api.example.com'] };
    const cloudConfig = { gateway: { ...GATEWAY, ...served } };
    expect(kind('api.example.com', 443, { 'arcproxy.allowlist.mode': 'enforce' }, cloudConfig)).toBe('deny');
    expect(route('api.example.com', 443, {}, cloudConfig)).toMatchObject({
      kind: 'gateway',
      wouldDeny: true,
    });
  });

  it('reports gateway endpoints and gateway.bypass entries it cannot read, and uses the rest', () => {
    const built = build({}, { gateway: { ...GATEWAY, endpoints: ['bad pattern', 'management.azure.com'] } });
    expect(built.problems).toEqual([expect.stringContaining('gateway endpoint ignored')]);
    expect(decideRoute({ host: 'management.azure.com', port: 443 }, 'x', built.policy).kind).toBe('gateway');
  });
});
