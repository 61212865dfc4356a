// In gateway mode the probes go through the local cloud's Arc gateway, as the Arc Proxy's would:
// onboarding endpoints pass without a machine certificate, others are refused by the gateway with
// that cause; gateway.bypass and connection.type direct route around it; proxy.bypass is said to be
// ignored; connection.type gateway without a gateway says it falls back.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CheckCloud,
  type CheckJson,
  reportOf,
  runCheck,
  startCheckCloud,
  writeHome,
} from './check-world.ts';

let cloud: CheckCloud;
let cloudConfig: { gateway: { id: string; url: string; endpoints: string[] } };
beforeAll(async () => {
  cloud = await startCheckCloud();
  const connect = JSON.parse(readFileSync(join(cloud.dataDir, 'connect-gateway.json'), 'utf8')) as Record<
    string,
    string
  >;
  const hosts = (cloud.profile['allow'] as { host: string }[]).map((a) => a.host);
  cloudConfig = { gateway: { id: connect['gateway-id']!, url: connect['gateway-url']!, endpoints: hosts } };
});
afterAll(() => cloud.stop());

const args = () => ['--cloud', cloud.profilePath, '--location', 'eastus'];
const byHost = (report: CheckJson) => Object.fromEntries(report.endpoints.map((e) => [e.host, e]));

describe('azcmagent check in gateway mode', () => {
  it('goes through the gateway, names what it refuses and why, and says proxy.bypass is ignored', async () => {
    const home = writeHome({ 'proxy.bypass': ['Arc'] }, cloudConfig);
    const text = await runCheck(home, args());
    expect(text.code).toBe(26);
    expect(text.stdout).toContain(
      `Connection type: gateway ${cloudConfig.gateway.url} (connection.type default)`,
    );
    expect(text.stdout).toMatch(/^NOTE proxy\.bypass \(Arc\) is ignored while the Arc gateway is in use/m);
    const report = reportOf(await runCheck(home, [...args(), '-j']));
    expect(report).toMatchObject({
      connectionType: 'gateway',
      connectionTypeSetting: 'default',
      gatewayUrl: cloudConfig.gateway.url,
      proxyBypassIgnored: true,
    });
    const e = byHost(report);
    for (const host of ['login.arc-local.test', 'management.arc-local.test', 'gbl.his.arc-local.test'])
      expect(e[host]).toMatchObject({ route: 'gateway', status: 'passed' });
    // The gateway itself is probed, around the gateway.
    expect(e[new URL(cloudConfig.gateway.url).hostname]).toMatchObject({ route: 'direct', status: 'passed' });
    // Before connect there is no machine certificate: the gateway serves onboarding endpoints only.
    expect(e['agentserviceapi.guestconfiguration.arc-local.test']).toMatchObject({
      route: 'gateway',
      status: 'failed',
      cause: 'gateway-refused',
      error: { code: 'GATEWAY_CLIENT_CERT_REFUSED' },
    });
  });

  it('routes around the gateway for gateway.bypass and for connection.type direct', async () => {
    const bypassed = reportOf(
      await runCheck(
        writeHome(
          {
            'gateway.bypass': [
              'agentserviceapi.guestconfiguration.arc-local.test',
              'guestnotificationservice.arc-local.test',
            ],
          },
          cloudConfig,
        ),
        [...args(), '-j'],
      ),
    );
    expect(bypassed.passed).toBe(true);
    expect(byHost(bypassed)['agentserviceapi.guestconfiguration.arc-local.test']?.route).toBe('direct');
    expect(byHost(bypassed)['login.arc-local.test']?.route).toBe('gateway');

    const direct = reportOf(
      await runCheck(writeHome({ 'connection.type': 'direct' }, cloudConfig), [...args(), '-j']),
    );
    expect(direct).toMatchObject({ passed: true, connectionType: 'direct', gatewayUrl: null });
    expect(direct.endpoints.every((x) => x.route === 'direct')).toBe(true);
  });

  it('says connection.type gateway falls back when cloudconfig.json names no gateway', async () => {
    const text = await runCheck(writeHome({ 'connection.type': 'gateway' }), args());
    expect(text.code, text.stdout).toBe(0);
    expect(text.stdout).toContain('Connection type: direct (connection.type gateway;');
    expect(text.stdout).toContain(
      'NOTE connection.type is gateway, but cloudconfig.json names no Arc gateway',
    );
  });
});
