// TLS inspection in the path: a proxy or firewall that terminates TLS with a CA of its own. The
// check names the issuer it saw and says to exempt the endpoint, whether the inspecting box sits
// where the name resolves or behind the enterprise proxy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EnterpriseProxy, startEnterpriseProxy } from '../helpers/enterprise-proxy.ts';
import {
  type CheckCloud,
  type TlsStub,
  reportOf,
  runCheck,
  startCheckCloud,
  startTlsStub,
  writeHome,
  writeProfile,
} from './check-world.ts';

let cloud: CheckCloud;
let mitm: TlsStub;
let proxy: EnterpriseProxy;
beforeAll(async () => {
  cloud = await startCheckCloud();
  mitm = await startTlsStub('Contoso Inspection CA', ['login.arc-local.test']);
  const hosts = Object.keys(cloud.profile['resolve'] as Record<string, string>);
  proxy = await startEnterpriseProxy({
    resolve: { ...Object.fromEntries(hosts.map((h) => [h, cloud.port])), 'login.arc-local.test': mitm.port },
  });
});
afterAll(async () => {
  await proxy.close();
  await mitm.close();
  await cloud.stop();
});

const expectInspection = (login: unknown, route: string) =>
  expect(login).toMatchObject({
    status: 'failed',
    reachable: false,
    route,
    cause: 'tls-inspection',
    tls: { version: expect.stringMatching(/^TLSv1\.[23]$/) },
    error: {
      code: 'ENDPOINT_TLS_INSPECTION',
      message: expect.stringContaining('certificate issued by "CN=Contoso Inspection CA"'),
      action: expect.stringContaining('exempt login.arc-local.test from TLS inspection'),
    },
  });

describe('azcmagent check and TLS inspection', () => {
  it('names the inspecting issuer where the name resolves to it', async () => {
    const profile = writeProfile(cloud, { resolve: { 'login.arc-local.test': `127.0.0.1:${mitm.port}` } });
    const args = ['--cloud', profile, '--location', 'eastus'];
    const text = await runCheck(writeHome(), args);
    expect(text.code).toBe(26);
    expect(text.stdout).toMatch(/^https:\/\/login\.arc-local\.test +false +direct .* tls-inspection$/m);
    expect(text.stdout).toContain(
      'FAILED https://login.arc-local.test: tls-inspection (ENDPOINT_TLS_INSPECTION)',
    );
    const report = reportOf(await runCheck(writeHome(), [...args, '-j']));
    expectInspection(report.endpoints[0], 'direct');
    expect(report.summary).toMatchObject({ failedRequired: 1, passed: 5 });
  });

  it('names it behind the enterprise proxy too', async () => {
    const home = writeHome({ 'proxy.url': proxy.url });
    const report = reportOf(await runCheck(home, ['--cloud', cloud.profilePath, '-l', 'eastus', '-j']));
    expectInspection(report.endpoints[0], 'upstream');
    expect(report.endpoints[1]).toMatchObject({ status: 'passed', route: 'upstream' });
  });
});
