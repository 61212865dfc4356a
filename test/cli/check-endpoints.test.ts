// Which endpoints a check probes: the cloud profile's data with the region filled in, a pure function
// (no network: the built-in clouds' hosts are real). The regional identity service uses the region's
// short code; a region without one is skipped with why, as is every regional host without a region.
import { describe, expect, it } from 'vitest';
import { AzureChinaCloud, AzureCloud, AzureUSGovernment } from '../../core/index.ts';
import { planEndpoints } from '../../cli/check/index.ts';

const urls = (planned: { url: string; skip: string | undefined }[]) =>
  planned.filter((p) => !p.skip).map((p) => p.url);

describe('planEndpoints', () => {
  it('fills in the public cloud regional hosts: short code for the identity service, name for the rest', () => {
    const planned = planEndpoints(AzureCloud, { region: 'westeurope', extensions: [] });
    expect(urls(planned)).toEqual(
      expect.arrayContaining([
        'https://login.microsoftonline.com',
        'https://management.azure.com',
        'https://gbl.his.arc.azure.com',
        'https://weu.his.arc.azure.com',
        'https://agentserviceapi.guestconfiguration.azure.com',
        'https://westeurope-gas.guestconfiguration.azure.com',
        'https://guestnotificationservice.azure.com',
      ]),
    );
    expect(planned.find((p) => p.url === 'https://weu.his.arc.azure.com')).toMatchObject({
      host: 'weu.his.arc.azure.com',
      port: 443,
      path: '/',
      required: true,
      privateLink: true,
      onboarding: true,
    });
    // Extension endpoints only when asked, and optional.
    expect(urls(planned).some((u) => u.includes('arcdataservices'))).toBe(false);
    const sql = planEndpoints(AzureCloud, { region: 'westeurope', extensions: ['sql'] });
    expect(sql.find((p) => p.extension === 'sql')).toMatchObject({
      url: 'https://telemetry.westeurope.arcdataservices.com',
      required: false,
    });
    expect(sql.some((p) => p.extension === 'ama')).toBe(false);
    const all = planEndpoints(AzureCloud, { region: 'westeurope', extensions: ['all'] });
    expect(all.some((p) => p.extension === 'ama')).toBe(true);
  });

  it('skips with why what it cannot fill in, and probes only what connect calls when asked', () => {
    const noRegion = planEndpoints(AzureCloud, { region: undefined, extensions: [] });
    expect(noRegion.find((p) => p.url.includes('{regionCode}'))?.skip).toContain('give --location');
    const noCode = planEndpoints(AzureChinaCloud, { region: 'chinaeast2', extensions: [] });
    expect(noCode.find((p) => p.url.includes('.his.') && p.url.includes('{regionCode}'))?.skip).toContain(
      'short code of region chinaeast2',
    );
    expect(urls(planEndpoints(AzureUSGovernment, { region: 'usgovtexas', extensions: [] }))).toContain(
      'https://usgv.his.arc.azure.us',
    );
    expect(
      urls(planEndpoints(AzureCloud, { region: 'eastus', extensions: ['all'], onboardingOnly: true })),
    ).toEqual([
      'https://login.microsoftonline.com',
      'https://management.azure.com',
      'https://gbl.his.arc.azure.com',
      'https://eus.his.arc.azure.com',
    ]);
  });

  it('adds the Arc gateway in use, and refuses an extension name the cloud does not know', () => {
    const gw = planEndpoints(AzureCloud, {
      region: 'eastus',
      extensions: [],
      gatewayUrl: 'https://abc.gw.arc.azure.com',
    });
    expect(gw.at(-1)).toMatchObject({
      url: 'https://abc.gw.arc.azure.com',
      required: true,
      purpose: 'Arc gateway',
    });
    expect(() => planEndpoints(AzureCloud, { region: 'eastus', extensions: ['nosuch'] })).toThrow(
      /--extensions nosuch: AzureCloud knows all, ama, sql/,
    );
  });
});
