// Cloud profiles are data: each built-in cloud's endpoint table with ports, purposes and the
// proxy.bypass categories of ../shared/reference/arc-cli-proxy-gateway.md sections 5 and 7, and
// loadCloudProfile, which finds a cloud by name or reads a profile file.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AgentError,
  AzureChinaCloud,
  AzureCloud,
  AzureUSGovernment,
  BUILTIN_CLOUDS,
  BYPASS_CATEGORIES,
  ENDPOINT_PATTERN,
  loadCloudProfile,
  type BypassCategory,
  type CloudProfile,
} from '../../core/index.ts';
import { tempDir } from '../helpers/world.ts';

const clouds = Object.values(BUILTIN_CLOUDS);

/** The categories an endpoint table gives `host` on port 443 (a host may be in more than one). */
const categoriesOf = (cloud: CloudProfile, host: string): (BypassCategory | undefined)[] =>
  cloud.allow.filter((e) => e.host === host && e.port === 443).map((e) => e.category);

/** Whether the table lets `host`:`port` through: exact names, and `*.domain` for names below it. */
const allows = (cloud: CloudProfile, host: string, port = 443): boolean =>
  cloud.allow.some(
    (e) => e.port === port && (e.host.startsWith('*.') ? host.endsWith(e.host.slice(1)) : e.host === host),
  );

describe('the built-in clouds', () => {
  it('are AzureCloud, AzureUSGovernment and AzureChinaCloud', () => {
    expect(clouds.map((c) => c.name)).toEqual(['AzureCloud', 'AzureUSGovernment', 'AzureChinaCloud']);
  });

  it.each(clouds.map((c) => [c.name, c] as const))(
    '%s: every endpoint has a valid host, a port, a purpose and a known category',
    (_name, cloud) => {
      expect(cloud.allow.length).toBeGreaterThan(5);
      for (const e of cloud.allow) {
        expect(e.host, JSON.stringify(e)).toMatch(new RegExp(ENDPOINT_PATTERN));
        expect(e.host).not.toContain(':');
        expect(Number.isInteger(e.port) && e.port >= 1 && e.port <= 65535, JSON.stringify(e)).toBe(true);
        expect(e.purpose.trim().length, JSON.stringify(e)).toBeGreaterThan(0);
        if (e.category !== undefined) expect(BYPASS_CATEGORIES).toContain(e.category);
      }
    },
  );

  it.each<[string, BypassCategory]>([
    ['management.azure.com', 'ARM'],
    ['management.azure.com', 'AMA'],
    ['login.microsoftonline.com', 'AAD'],
    ['login.windows.net', 'AAD'],
    ['pas.windows.net', 'AAD'],
    ['*.his.arc.azure.com', 'Arc'],
    ['*.guestconfiguration.azure.com', 'Arc'],
    ['*.arcdataservices.com', 'ArcData'],
    ['global.handler.control.monitor.azure.com', 'AMA'],
    ['*.handler.control.monitor.azure.com', 'AMA'],
    ['*.ods.opinsights.azure.com', 'AMA'],
    ['*.monitoring.azure.com', 'AMA'],
    ['*.ingest.monitor.azure.com', 'AMA'],
  ])('AzureCloud: %s is in the %s bypass category', (host, category) => {
    expect(categoriesOf(AzureCloud, host)).toContain(category);
  });

  it.each([
    'download.microsoft.com',
    'packages.microsoft.com',
    'guestnotificationservice.azure.com',
    '*.servicebus.windows.net',
  ])('AzureCloud: %s is allowed but in no bypass category', (host) => {
    expect(categoriesOf(AzureCloud, host)).toEqual([undefined]);
  });

  it('AzureCloud: www.microsoft.com is allowed on port 80 as well as 443 (ESU certificates)', () => {
    expect(allows(AzureCloud, 'www.microsoft.com', 80)).toBe(true);
    expect(allows(AzureCloud, 'www.microsoft.com', 443)).toBe(true);
    expect(allows(AzureCloud, 'download.microsoft.com', 80)).toBe(false);
  });

  it('matches *.domain below the domain only, the way the README documents', () => {
    expect(allows(AzureCloud, 'eastus.his.arc.azure.com')).toBe(true);
    expect(allows(AzureCloud, 'his.arc.azure.com')).toBe(false);
    expect(allows(AzureCloud, 'evilhis.arc.azure.com')).toBe(false);
  });

  it.each<[CloudProfile, string, BypassCategory]>([
    [AzureUSGovernment, 'login.microsoftonline.us', 'AAD'],
    [AzureUSGovernment, 'pasff.usgovcloudapi.net', 'AAD'],
    [AzureUSGovernment, 'management.usgovcloudapi.net', 'ARM'],
    [AzureUSGovernment, '*.his.arc.azure.us', 'Arc'],
    [AzureUSGovernment, '*.guestconfiguration.azure.us', 'Arc'],
    [AzureUSGovernment, '*.arcdataservices.azure.us', 'ArcData'],
    [AzureChinaCloud, 'login.chinacloudapi.cn', 'AAD'],
    [AzureChinaCloud, 'login.partner.chinacloudapi.cn', 'AAD'],
    [AzureChinaCloud, 'management.chinacloudapi.cn', 'ARM'],
    [AzureChinaCloud, '*.his.arc.azure.cn', 'Arc'],
    [AzureChinaCloud, '*.guestconfiguration.azure.cn', 'Arc'],
  ])('%s: %s is in the %s bypass category', (cloud, host, category) => {
    expect(categoriesOf(cloud, host)).toContain(category);
  });

  it('keeps each sovereign cloud off the public cloud service names', () => {
    for (const cloud of [AzureUSGovernment, AzureChinaCloud]) {
      expect(allows(cloud, 'management.azure.com')).toBe(false);
      expect(allows(cloud, 'login.microsoftonline.com')).toBe(false);
      expect(allows(cloud, 'eastus.his.arc.azure.com')).toBe(false);
    }
  });

  // In enforce mode the Arc Proxy denies what the table does not list, so a service endpoint that a
  // profile names but does not allow is one the agent can never reach. (The gateway domain is left
  // out: the Arc gateway is public cloud only, reference section 6.4.)
  it.each(clouds.map((c) => [c.name, c] as const))(
    '%s: allows every service endpoint it names',
    (_name, cloud) => {
      const denied = Object.entries(cloud.endpoints)
        .filter(([service]) => service !== 'gatewayDomain')
        .map(([service, url]) => [service, new URL(url).hostname] as const)
        .filter(([, host]) => !allows(cloud, host));
      expect(denied).toEqual([]);
    },
  );
});

describe('loadCloudProfile', () => {
  it.each([
    ['AzureCloud', AzureCloud],
    ['azurecloud', AzureCloud],
    ['AZUREUSGOVERNMENT', AzureUSGovernment],
    ['azureChinaCloud', AzureChinaCloud],
  ])('finds %s whatever the case', async (name, cloud) => {
    expect(await loadCloudProfile(name)).toBe(cloud);
  });

  it('reads a profile file by path, as the local cloud writes one', async () => {
    const profile: CloudProfile = {
      name: 'LocalCloud',
      endpoints: {
        arm: 'https://management.local.test',
        login: 'https://login.local.test',
        hisGlobal: 'https://gbl.his.local.test',
        guestConfiguration: 'https://gc.local.test',
        notifications: 'https://notify.local.test',
        gatewayDomain: 'gw.local.test',
      },
      allow: [{ host: 'management.local.test', port: 443, category: 'ARM', purpose: 'ARM' }],
      caFile: '/tmp/local-ca.pem',
      resolve: { 'management.local.test': '127.0.0.1:45678' },
    };
    const path = join(tempDir(), 'cloud.json');
    writeFileSync(path, JSON.stringify(profile));
    expect(await loadCloudProfile(path)).toEqual(profile);
  });

  async function loadError(nameOrPath: string): Promise<AgentError> {
    const err: unknown = await loadCloudProfile(nameOrPath).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, `${nameOrPath} should be refused`).toBeInstanceOf(AgentError);
    return err as AgentError;
  }

  it('refuses a name it does not know with CLOUD_UNKNOWN naming it', async () => {
    const err = await loadError('AzureGermanCloud');
    expect(err.code).toBe('CLOUD_UNKNOWN');
    expect(err.exitCode).toBe(23);
    expect(err.message).toContain('AzureGermanCloud');
    expect(err.action).toContain('AzureUSGovernment');
  });

  const profileFile = (content: string): string => {
    const path = join(tempDir(), 'cloud.json');
    writeFileSync(path, content);
    return path;
  };

  it.each<[string, () => string]>([
    ['a file that does not exist', () => join(tempDir(), 'missing.json')],
    ['malformed JSON', () => profileFile('{"name": "x",')],
    ['a profile without allow', () => profileFile('{"name": "x", "endpoints": {}}')],
    ['a profile without a name', () => profileFile('{"endpoints": {}, "allow": []}')],
    ['a JSON array', () => profileFile('[]')],
    // These reach past the checks: null throws a TypeError instead of an AgentError, and null
    // endpoints or endpoint entries without a host pass, to fail later inside the Arc Proxy.
    ['JSON null', () => profileFile('null')],
    ['null endpoints', () => profileFile('{"name": "x", "endpoints": null, "allow": []}')],
    ['an endpoint without host or port', () => profileFile('{"name": "x", "endpoints": {}, "allow": [{}]}')],
  ])('refuses %s with CLOUD_PROFILE_INVALID naming the file', async (_what, make) => {
    const path = make();
    const err = await loadError(path);
    expect(err.code).toBe('CLOUD_PROFILE_INVALID');
    expect(err.exitCode).toBe(75);
    expect(err.message).toContain(path);
  });
});
