// decideRoute and buildPolicy are pure: tested without sockets.
import { describe, expect, it } from 'vitest';
import { AzureCloud, defaultConfig, type LocalConfig } from '../../core/index.ts';
import { buildPolicy, decideRoute } from '../../proxy/index.ts';

const policyOf = (config: Partial<LocalConfig>, envProxy?: string) =>
  buildPolicy({ config: { ...defaultConfig(), ...config }, cloud: AzureCloud, envProxy });

describe('decideRoute', () => {
  it('sends allowed destinations direct when no enterprise proxy is set', () => {
    const { policy } = policyOf({});
    expect(decideRoute({ host: 'management.azure.com', port: 443 }, 'himds', policy)).toEqual({
      kind: 'direct',
      wouldDeny: false,
    });
  });

  it('audit mode lets unknown destinations through, marked would-deny', () => {
    const { policy } = policyOf({ 'arcproxy.allowlist.mode': 'audit' });
    expect(decideRoute({ host: 'example.com', port: 443 }, 'extd', policy)).toEqual({
      kind: 'direct',
      wouldDeny: true,
    });
  });

  it('enforce mode denies unknown destinations and names the command that allows them', () => {
    const { policy } = policyOf({ 'arcproxy.allowlist.mode': 'enforce' });
    const d = decideRoute({ host: 'example.com', port: 8443 }, 'extd', policy);
    expect(d).toMatchObject({
      kind: 'deny',
      allowCommand: 'azcmagent config set arcproxy.allowlist example.com:8443 --add',
    });
    expect(d.kind === 'deny' && d.reason).toContain('client extd');
  });

  it('enforce mode allows the cloud endpoints on 443 only, and user patterns', () => {
    const { policy } = policyOf({
      'arcproxy.allowlist.mode': 'enforce',
      'arcproxy.allowlist': ['example.com:8443', '*.corp.test'],
    });
    expect(decideRoute({ host: 'weu.his.arc.azure.com', port: 443 }, 'a', policy).kind).toBe('direct');
    expect(decideRoute({ host: 'weu.his.arc.azure.com', port: 80 }, 'a', policy).kind).toBe('deny');
    expect(decideRoute({ host: 'his.arc.azure.com', port: 443 }, 'a', policy).kind).toBe('deny');
    expect(decideRoute({ host: 'example.com', port: 8443 }, 'a', policy).kind).toBe('direct');
    expect(decideRoute({ host: 'example.com', port: 443 }, 'a', policy).kind).toBe('deny');
    expect(decideRoute({ host: 'a.b.corp.test', port: 22 }, 'a', policy).kind).toBe('direct');
    expect(decideRoute({ host: 'corp.test', port: 22 }, 'a', policy).kind).toBe('deny');
  });

  it('routes through proxy.url, except bypassed categories and loopback', () => {
    const { policy } = policyOf({
      'proxy.url': 'http://alice:s3cret@proxy.corp:8080',
      'proxy.bypass': ['Arc'],
    });
    const viaProxy = decideRoute({ host: 'management.azure.com', port: 443 }, 'himds', policy);
    expect(viaProxy.kind).toBe('upstream');
    if (viaProxy.kind !== 'upstream') throw new Error('unreachable');
    expect(viaProxy.proxy.authorization).toBe(`Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
    expect(viaProxy.proxy.display).not.toContain('s3cret');
    expect(viaProxy.proxy.display).not.toContain('alice');
    expect(decideRoute({ host: 'eus.his.arc.azure.com', port: 443 }, 'himds', policy).kind).toBe('direct');
    expect(
      decideRoute({ host: 'agentserviceapi.guestconfiguration.azure.com', port: 443 }, 'x', policy).kind,
    ).toBe('direct');
    expect(decideRoute({ host: '127.0.0.1', port: 9000 }, 'x', policy).kind).toBe('direct');
  });

  it('AAD bypass covers the Entra endpoints and nothing else', () => {
    const { policy } = policyOf({ 'proxy.url': 'http://proxy.corp:8080', 'proxy.bypass': ['AAD'] });
    expect(decideRoute({ host: 'login.microsoftonline.com', port: 443 }, 'x', policy).kind).toBe('direct');
    expect(decideRoute({ host: 'pas.windows.net', port: 443 }, 'x', policy).kind).toBe('direct');
    expect(decideRoute({ host: 'management.azure.com', port: 443 }, 'x', policy).kind).toBe('upstream');
  });
});

describe('buildPolicy', () => {
  it('uses HTTPS_PROXY of the environment only when proxy.url is empty', () => {
    expect(policyOf({}, 'http://env.proxy:3128').policy.upstream?.url.host).toBe('env.proxy:3128');
    expect(
      policyOf({ 'proxy.url': 'http://cfg.proxy:8080' }, 'http://env.proxy:3128').policy.upstream?.url.host,
    ).toBe('cfg.proxy:8080');
    expect(policyOf({}).policy.upstream).toBeUndefined();
  });

  it('reports an unusable enterprise proxy without its credentials', () => {
    const { policy, problems } = policyOf({}, 'socks5://bob:hunter2@x:1080');
    expect(policy.upstream).toBeUndefined();
    expect(problems.join('\n')).toContain('enterprise proxy ignored');
    expect(problems.join('\n')).not.toContain('hunter2');
  });
});
