// Through an enterprise proxy: one that wants credentials (407) gives the proxy-auth cause and the
// fix; with credentials in proxy.url (or HTTPS_PROXY) every endpoint passes through it, and the
// output names the proxy without its credentials.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EnterpriseProxy, startEnterpriseProxy } from '../helpers/enterprise-proxy.ts';
import { type CheckCloud, reportOf, runCheck, startCheckCloud, writeHome } from './check-world.ts';

const PASSWORD = 's3cret-pw';
let cloud: CheckCloud;
let proxy: EnterpriseProxy;
beforeAll(async () => {
  cloud = await startCheckCloud();
  const hosts = Object.keys(cloud.profile['resolve'] as Record<string, string>);
  proxy = await startEnterpriseProxy({
    credentials: `corp:${PASSWORD}`,
    resolve: Object.fromEntries(hosts.map((h) => [h, cloud.port])),
  });
});
afterAll(async () => {
  await proxy.close();
  await cloud.stop();
});

const args = () => ['--cloud', cloud.profilePath, '--location', 'eastus'];
const bare = () => proxy.url.replace(`corp:${PASSWORD}@`, '');

describe('azcmagent check through an enterprise proxy', () => {
  it('reports proxy-auth with the fix when the proxy wants credentials, and exits 26', async () => {
    const home = writeHome({ 'proxy.url': bare() });
    const text = await runCheck(home, args());
    expect(text.code).toBe(26);
    expect(text.stdout).toContain(`Enterprise proxy: ${bare()}`);
    expect(text.stdout).toMatch(/^https:\/\/login\.arc-local\.test +false +upstream .* proxy-auth$/m);
    expect(text.stdout).toContain('To fix: put the credentials in the proxy URL');
    const report = reportOf(await runCheck(home, [...args(), '-j']));
    expect(report.summary.failedRequired).toBe(report.summary.total);
    expect(report.endpoints[0]).toMatchObject({
      route: 'upstream',
      proxy: bare(),
      dns: null,
      cause: 'proxy-auth',
      error: { code: 'ARCPROXY_UPSTREAM_PROXY_AUTH' },
    });
    expect(proxy.asked).toContain('CONNECT login.arc-local.test:443');
  });

  it('passes through the proxy with credentials, and never prints them', async () => {
    const redacted = `http://REDACTED@127.0.0.1:${proxy.port}`;
    const fromConfig = await runCheck(writeHome({ 'proxy.url': proxy.url }), args());
    const fromEnv = await runCheck(writeHome(), [...args(), '-j'], { HTTPS_PROXY: proxy.url });
    for (const run of [fromConfig, fromEnv]) {
      expect(run.code, run.stdout).toBe(0);
      expect(`${run.stdout}${run.stderr}`).not.toContain(PASSWORD);
    }
    expect(fromConfig.stdout).toContain(`Enterprise proxy: ${redacted}`);
    expect(fromConfig.stdout).toMatch(
      /^https:\/\/login\.arc-local\.test +true +upstream +http:\/\/REDACTED@/m,
    );
    const report = reportOf(fromEnv);
    expect(report.proxy).toBe(redacted);
    expect(report.endpoints.every((e) => e.route === 'upstream')).toBe(true);
    expect(report.endpoints[0]?.proxy).toBe(redacted);
    expect(proxy.authorizations).toContain(`Basic ${Buffer.from(`corp:${PASSWORD}`).toString('base64')}`);
  });
});
