// The gateway's list as data and its pattern semantics, without sockets: the public list mirrors
// Microsoft's page, `*.domain` covers names below the domain only, a pattern without a port means
// 443, `*` inside a label stands for letters, digits and hyphens, and machines are sent only the
// forms the agent matches.
import { describe, expect, it } from 'vitest';
import {
  advertisedEndpoints,
  compileTargets,
  gatewayPatterns,
  LOCAL_ONBOARDING_ENDPOINTS,
  localProfile,
  PUBLIC_GATEWAY_ENDPOINTS,
} from '../../cloud/index.ts';

describe('the public gateway list', () => {
  it('holds the examples of the reference (section 6.3) and has no duplicates or malformed entries', () => {
    // 180 patterns on the page of 2025-09-18 (the reference's "200+" counted an older page).
    expect(PUBLIC_GATEWAY_ENDPOINTS).toHaveLength(180);
    expect(new Set(PUBLIC_GATEWAY_ENDPOINTS).size).toBe(PUBLIC_GATEWAY_ENDPOINTS.length);
    expect(PUBLIC_GATEWAY_ENDPOINTS).toEqual(
      expect.arrayContaining([
        '*.his.arc.azure.com',
        '*.guestconfiguration.azure.com',
        '*.guestnotificationservice.azure.com',
        'guestnotificationservice.azure.com',
        'azgn*.servicebus.windows.net',
        '*.servicebus.windows.net',
        '*.blob.core.windows.net',
        '*.login.microsoft.com',
        'login.microsoft.com',
        'login.windows.net',
        'pas.windows.net',
        'management.azure.com',
        'graph.microsoft.com',
        '*.waconazure.com',
        '*.obo.arc.azure.com',
        '*.obo.arc.azure.com:8084',
        '*.update.microsoft.com:80',
        'www.microsoft.com:80',
        'mcr.microsoft.com',
        'packages.microsoft.com',
        'download.microsoft.com',
      ]),
    );
    expect(compileTargets(PUBLIC_GATEWAY_ENDPOINTS).invalid).toEqual([]);
  });
});

describe('pattern matching', () => {
  const { set } = compileTargets(PUBLIC_GATEWAY_ENDPOINTS);
  it.each([
    ['eastus.his.arc.azure.com', 443, true],
    ['his.arc.azure.com', 443, false],
    ['management.azure.com', 443, true],
    ['management.azure.com', 80, false],
    ['www.microsoft.com', 80, true],
    ['www.microsoft.com', 443, true],
    ['eastus.obo.arc.azure.com', 8084, true],
    ['azgn-eus-01.servicebus.windows.net', 443, true],
    ['san-af-eastus-prod.azurewebsites.net', 443, true],
    ['san-af-eastus-dev.azurewebsites.net', 443, false],
    ['example.com', 443, false],
  ])('%s:%i served: %s', (host, port, served) => {
    expect(set.serves({ host, port })).toBe(served);
  });

  it('reports malformed patterns', () => {
    expect(compileTargets(['ok.test', 'not a host', 'x.test:99999', '*.127.0.0.1']).invalid).toEqual([
      'not a host',
      'x.test:99999',
      '*.127.0.0.1',
    ]);
  });

  it('serves the local cloud’s onboarding endpoints on 443', () => {
    const onboarding = compileTargets(LOCAL_ONBOARDING_ENDPOINTS).set;
    for (const host of [
      'login.arc-local.test',
      'management.arc-local.test',
      'gbl.his.arc-local.test',
      'westus2.his.arc-local.test',
    ])
      expect(onboarding.serves({ host, port: 443 })).toBe(true);
    expect(onboarding.serves({ host: 'agentserviceapi.guestconfiguration.arc-local.test', port: 443 })).toBe(
      false,
    );
  });
});

describe('what machines are sent', () => {
  it('is the public list, the local cloud’s endpoints and the extras, without label wildcards', () => {
    const allow = localProfile({ host: '127.0.0.1', port: 1, caFile: '/ca.pem', regions: ['eastus'] }).allow;
    const patterns = gatewayPatterns(allow, ['extra.test:8443', 'management.azure.com']);
    const sent = advertisedEndpoints(patterns);
    expect(sent).toEqual(
      expect.arrayContaining(['*.his.arc-local.test', 'login.arc-local.test', 'extra.test:8443']),
    );
    expect(sent.filter((p) => p === 'management.azure.com')).toHaveLength(1);
    expect(sent).not.toContain('azgn*.servicebus.windows.net');
    expect(sent).not.toContain('san-af-*-prod.azurewebsites.net');
    expect(sent).toHaveLength(patterns.length - 2);
  });
});
