// What the cloud tells the agent about its gateway: the LocalCloud fields, profile.json's resolve
// entry for the gateway's name, connect-gateway.json (0600), and a TLS certificate that openssl
// verifies for the gateway's name against ca.pem.
import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCloudProfile } from '../../core/index.ts';
import { execFileP } from '../helpers/world.ts';
import { startTestCloud, type TestCloud } from './helpers.ts';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(() => t.close());

describe('the gateway in the written files', () => {
  it('returns the gateway’s id, url, name, port and address', () => {
    const g = t.cloud.gateway;
    expect(g.id).toBe(
      `/subscriptions/${t.cloud.subscriptionId}/resourceGroups/arc-local-rg/providers/Microsoft.HybridCompute/gateways/arc-local-gateway`,
    );
    expect(g.host).toMatch(/^[0-9a-f-]{36}\.gw\.arc-local\.test$/);
    expect(g.url).toBe(`https://${g.host}`);
    expect(g.port).toBeGreaterThan(0);
    expect(g.port).not.toBe(t.cloud.port);
    expect(g.address).toBe(`127.0.0.1:${g.port}`);
  });

  it('resolves the gateway’s name to its listener in profile.json, the rest to the main port', async () => {
    const profile = await loadCloudProfile(t.cloud.files.profile);
    expect(profile.resolve?.[t.cloud.gateway.host]).toBe(t.cloud.gateway.address);
    expect(profile.resolve?.['login.arc-local.test']).toBe(`127.0.0.1:${t.cloud.port}`);
  });

  it('writes connect-gateway.json: connect.json plus gateway-id and gateway-url, 0600', () => {
    expect(statSync(t.cloud.files.connectGateway).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(t.cloud.files.connectGateway, 'utf8'))).toEqual({
      ...t.connect,
      'gateway-id': t.cloud.gateway.id,
      'gateway-url': t.cloud.gateway.url,
    });
  });

  it('serves a certificate that openssl verifies for the gateway’s name', async () => {
    const run = execFileP(
      'openssl',
      [
        's_client',
        '-connect',
        t.cloud.gateway.address,
        '-servername',
        t.cloud.gateway.host,
        '-verify_hostname',
        t.cloud.gateway.host,
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
    expect(stderr).toContain(`Verified peername: *.gw.arc-local.test`);
  });
});
