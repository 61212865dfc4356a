// What the cloud writes for the agent: a profile the agent's own loader accepts, whose resolve map
// sends every endpoint to this port; a connect config with the credentials (0600); and a server
// certificate that is valid for every profile host, as openssl s_client sees it.
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCloudProfile } from '../../core/index.ts';
import { execFileP } from '../helpers/world.ts';
import { startTestCloud, type TestCloud } from './helpers.ts';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(() => t.close());

describe('profile.json, connect.json, ca.pem', () => {
  it('writes a Local cloud profile that core accepts, every endpoint resolving to the listener', async () => {
    const profile = await loadCloudProfile(t.cloud.files.profile);
    expect(profile.name).toBe('Local');
    expect(profile.caFile).toBe(t.cloud.files.ca);
    const at = `127.0.0.1:${t.cloud.port}`;
    for (const url of Object.values(profile.endpoints)) {
      const host = url.startsWith('https://') ? new URL(url).hostname : url;
      expect(profile.resolve?.[host]).toBe(at);
    }
    expect(profile.resolve?.['eastus.his.arc-local.test']).toBe(at);
    expect(profile.allow.map((e) => e.host)).toEqual(
      expect.arrayContaining(['login.arc-local.test', 'management.arc-local.test', '*.his.arc-local.test']),
    );
    expect(profile.regions).toContain('eastus');
  });

  it('writes connect.json with the flags of azcmagent connect, readable by its owner only', () => {
    expect(statSync(t.cloud.files.connect).mode & 0o777).toBe(0o600);
    expect(statSync(t.dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(t.cloud.files.database).mode & 0o777).toBe(0o600);
    expect(t.connect).toEqual({
      'service-principal-id': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'service-principal-secret': expect.any(String),
      'tenant-id': t.cloud.tenantId,
      'subscription-id': t.cloud.subscriptionId,
      'resource-group': 'arc-local-rg',
      location: 'eastus',
      cloud: t.cloud.files.profile,
    });
  });

  it.each([
    'management.arc-local.test',
    'gbl.his.arc-local.test',
    'westeurope.his.arc-local.test',
    'localhost',
  ])('serves a certificate that openssl verifies for %s against ca.pem', async (name) => {
    // Asynchronously (the cloud answers from this same process), and with stdin closed so that
    // s_client ends after the handshake.
    const run = execFileP(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${t.cloud.port}`,
        '-servername',
        name,
        '-verify_hostname',
        name,
        '-CAfile',
        t.cloud.files.ca,
        '-verify_return_error',
        '-brief',
      ],
      { timeout: 10_000 },
    );
    run.child.stdin?.end();
    const { stderr } = await run;
    expect(stderr).toContain('Verification: OK');
    // -verify_hostname with -verify_return_error: a name outside the SANs fails the handshake.
    expect(stderr).toMatch(/Verified peername: /);
  });
});
