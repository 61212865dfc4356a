// What `azcmagent check` says when endpoints fail: a name that does not resolve, a port that refuses,
// each with its cause class and fix; exit 26 when a required endpoint fails, a warning only when an
// optional one (an extension's) does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CheckCloud,
  type CheckJson,
  closedPort,
  reportOf,
  runCheck,
  startCheckCloud,
  writeHome,
  writeProfile,
} from './check-world.ts';

let cloud: CheckCloud;
let refused: number;
beforeAll(async () => {
  cloud = await startCheckCloud();
  refused = await closedPort();
});
afterAll(() => cloud.stop());

const login = { url: 'https://login.arc-local.test', purpose: 'tokens', need: 'required' };
const byUrl = (report: CheckJson, url: string) => report.endpoints.find((e) => e.url === url);

describe('azcmagent check failures', () => {
  it('names DNS and TCP-refused failures with their fixes, and exits 26', async () => {
    const profile = writeProfile(cloud, {
      check: [
        login,
        // .invalid never resolves (RFC 6761 section 6.4).
        { url: 'https://nowhere.invalid', purpose: 'a name that does not resolve', need: 'required' },
        { url: 'https://refused.arc-local.test', purpose: 'a port that refuses', need: 'required' },
        {
          url: 'https://extra.invalid',
          purpose: 'an extension endpoint',
          need: 'optional',
          extension: 'extra',
        },
      ],
      resolve: { 'refused.arc-local.test': `127.0.0.1:${refused}` },
    });
    const args = ['--cloud', profile, '--location', 'eastus', '--extensions', 'all'];
    const text = await runCheck(writeHome(), args);
    expect(text.code).toBe(26);
    expect(text.stdout).toMatch(/^https:\/\/login\.arc-local\.test +true /m);
    expect(text.stdout).toMatch(/^https:\/\/nowhere\.invalid +false +direct .* dns$/m);
    expect(text.stdout).toMatch(/^https:\/\/refused\.arc-local\.test +false +direct .* tcp-refused$/m);
    expect(text.stdout).toMatch(/^https:\/\/extra\.invalid \(optional\) +false .* dns$/m);
    expect(text.stdout).toContain('FAILED https://nowhere.invalid: dns (ARCPROXY_DNS_FAILURE)');
    expect(text.stdout).toContain("To fix: check the name and this machine's DNS settings");
    expect(text.stdout).toContain(
      'FAILED https://refused.arc-local.test: tcp-refused (ARCPROXY_UPSTREAM_REFUSED)',
    );
    expect(text.stdout).toContain('WARNING (optional) https://extra.invalid: dns');
    expect(text.stderr).toContain(
      'Error NETWORK_CHECK_FAILED: required endpoints cannot be reached: nowhere.invalid, refused.arc-local.test',
    );

    const json = await runCheck(writeHome(), [...args, '-j']);
    expect(json.code).toBe(26);
    const report = reportOf(json);
    expect(report.passed).toBe(false);
    expect(report.summary).toMatchObject({ total: 4, reachable: 1, failedRequired: 2, failedOptional: 1 });
    expect(byUrl(report, 'https://nowhere.invalid')).toMatchObject({
      status: 'failed',
      reachable: false,
      route: 'direct',
      cause: 'dns',
      error: { code: 'ARCPROXY_DNS_FAILURE' },
      timingsMs: { dns: expect.any(Number), connect: null, tls: null, http: null },
    });
    expect(byUrl(report, 'https://refused.arc-local.test')).toMatchObject({
      cause: 'tcp-refused',
      error: { code: 'ARCPROXY_UPSTREAM_REFUSED', action: expect.stringContaining('listening') },
      dns: { addresses: ['127.0.0.1'], source: 'resolve-map' },
    });
    expect(byUrl(report, 'https://extra.invalid')).toMatchObject({
      required: false,
      extension: 'extra',
      status: 'failed',
    });
  });

  it('only warns when an optional endpoint fails, and probes extensions only when asked', async () => {
    const profile = writeProfile(cloud, {
      check: [
        login,
        { url: 'https://sql.invalid', purpose: 'SQL', need: 'optional', extension: 'sql' },
        { url: 'https://ama.invalid', purpose: 'AMA', need: 'optional', extension: 'ama' },
      ],
    });
    const base = ['--cloud', profile, '--location', 'eastus'];
    const warned = await runCheck(writeHome(), [...base, '-e', 'sql']);
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stdout).toContain('WARNING (optional) https://sql.invalid: dns');
    expect(warned.stdout).not.toContain('ama.invalid');
    const none = reportOf(await runCheck(writeHome(), [...base, '-j']));
    expect(none.endpoints.map((e) => e.url)).toEqual(['https://login.arc-local.test']);

    const unknown = await runCheck(writeHome(), [...base, '-e', 'nosuch']);
    expect(unknown.code).toBe(23);
    expect(unknown.stderr).toContain('all, sql, ama');
  });
});
