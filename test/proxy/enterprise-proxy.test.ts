// The enterprise-proxy hop: http:// and https:// proxies, with and without credentials; credentials
// travel as Proxy-Authorization and never reach a log line; proxy.bypass categories go direct.
import { afterEach, describe, expect, it } from 'vitest';
import type { CloudProfile, LocalConfig } from '../../core/index.ts';
import { startEnterpriseProxy, type EnterpriseProxy } from '../helpers/enterprise-proxy.ts';
import {
  closeServer,
  curl,
  eventually,
  makePki,
  startOrigin,
  startProxy,
  type TestProxy,
} from '../helpers/world.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function world(opts: {
  credentials?: string;
  tls?: boolean;
  configured?: 'config' | 'env';
  bypass?: string[];
}) {
  const origin = await startOrigin();
  const pki = opts.tls ? makePki() : undefined;
  const corp: EnterpriseProxy = await startEnterpriseProxy({
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    ...(pki ? { tls: pki } : {}),
    resolve: { 'arm.test': origin.port, 'app.test': origin.port },
  });
  // A cloud whose ARM endpoint is arm.test; the Arc Proxy reaches it through its resolve map when direct.
  const cloud: CloudProfile = {
    name: 'Test',
    endpoints: {
      arm: 'http://arm.test',
      login: '',
      hisGlobal: '',
      guestConfiguration: '',
      notifications: '',
      gatewayDomain: '',
    },
    allow: [{ host: 'arm.test', port: 80, category: 'ARM', purpose: 'ARM' }],
    resolve: { 'arm.test': `127.0.0.1:${origin.port}` },
  };
  const p: TestProxy = await startProxy({
    cloud,
    config: {
      ...(opts.configured !== 'env' ? { 'proxy.url': corp.url } : {}),
      ...(opts.bypass ? { 'proxy.bypass': opts.bypass as LocalConfig['proxy.bypass'] } : {}),
    },
    ...(opts.configured === 'env' ? { envProxy: corp.url } : {}),
    ...(pki ? { upstreamCa: pki.ca } : {}),
  });
  cleanup.push(
    () => closeServer(origin.server),
    () => corp.close(),
    () => p.close(),
  );
  return { origin, corp, p };
}

describe('enterprise proxy', () => {
  it('carries CONNECT tunnels and forwarded requests through an http:// proxy', async () => {
    const { corp, p } = await world({});
    const tunnel = await curl(['-p', '-x', p.url, 'http://app.test/via-tunnel']);
    expect(JSON.parse(tunnel.stdout)).toMatchObject({ url: '/via-tunnel' });
    const forwarded = await curl(['-x', p.url, 'http://app.test/via-forward']);
    expect(JSON.parse(forwarded.stdout)).toMatchObject({ url: '/via-forward' });
    expect(corp.asked).toEqual(['CONNECT app.test:80', 'GET http://app.test/via-forward']);
    await eventually(() => p.proxy.meter.snapshot().entries.some((e) => e.tunnels === 1));
    expect(p.proxy.meter.snapshot().entries.every((e) => e.route === 'upstream')).toBe(true);
  });

  it('sends the credentials of proxy.url as Proxy-Authorization and never logs them', async () => {
    const { corp, p } = await world({ credentials: 'alice:s3cr3t-pw' });
    expect(
      (await curl(['-p', '-x', `http://extd@127.0.0.1:${p.port}`, 'http://app.test/t'])).stdout,
    ).toContain('/t');
    expect((await curl(['-x', p.url, 'http://app.test/f'])).stdout).toContain('/f');
    const expected = `Basic ${Buffer.from('alice:s3cr3t-pw').toString('base64')}`;
    expect(corp.authorizations).toEqual([expected, expected]);
    expect(p.lines()).toContain('127.0.0.1');
    expect(p.lines()).not.toContain('s3cr3t-pw');
    expect(p.lines()).not.toContain(Buffer.from('alice:s3cr3t-pw').toString('base64'));
  });

  it('speaks TLS to an https:// proxy, verified against its CA', async () => {
    const { corp, p } = await world({ tls: true, credentials: 'bob:tls-secret' });
    expect((await curl(['-p', '-x', p.url, 'http://app.test/over-tls'])).stdout).toContain('/over-tls');
    expect((await curl(['-x', p.url, 'http://app.test/fwd-tls'])).stdout).toContain('/fwd-tls');
    // undici tunnels even plain-HTTP requests through an https:// proxy; either way they pass through it.
    expect(corp.asked).toHaveLength(2);
    expect(corp.asked.every((a) => a.includes('app.test'))).toBe(true);
  });

  it('takes HTTPS_PROXY from its environment when proxy.url is empty', async () => {
    const { corp, p } = await world({ configured: 'env' });
    expect((await curl(['-p', '-x', p.url, 'http://app.test/env'])).stdout).toContain('/env');
    expect(corp.asked).toEqual(['CONNECT app.test:80']);
  });

  it('sends bypassed categories direct and everything else through the proxy', async () => {
    const { corp, p } = await world({ bypass: ['ARM'] });
    expect((await curl(['-p', '-x', p.url, 'http://arm.test/direct'])).stdout).toContain('/direct');
    expect((await curl(['-p', '-x', p.url, 'http://app.test/proxied'])).stdout).toContain('/proxied');
    expect(corp.asked).toEqual(['CONNECT app.test:80']);
    await eventually(() => p.proxy.meter.snapshot().entries.length === 2);
    const routes = Object.fromEntries(p.proxy.meter.snapshot().entries.map((e) => [e.destination, e.route]));
    expect(routes).toEqual({ 'arm.test:80': 'direct', 'app.test:80': 'upstream' });
  });
});
