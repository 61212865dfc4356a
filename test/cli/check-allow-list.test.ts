// The Arc Proxy's allow-list applies to the probes as it does to the agent: under enforce, an
// endpoint it does not name is denied, with the command that allows it; under audit, a note.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CheckCloud,
  reportOf,
  runCheck,
  startCheckCloud,
  writeHome,
  writeProfile,
} from './check-world.ts';

let cloud: CheckCloud;
let profile: string;
beforeAll(async () => {
  cloud = await startCheckCloud();
  // The allow-list names login.arc-local.test on 443 only; the cloud answers on any port we map.
  profile = writeProfile(cloud, {
    check: [
      { url: 'https://login.arc-local.test', purpose: 'tokens', need: 'required' },
      { url: 'https://login.arc-local.test:8443', purpose: 'another port', need: 'required' },
    ],
  });
});
afterAll(() => cloud.stop());

const args = () => ['--cloud', profile, '--location', 'eastus'];

describe('azcmagent check and the allow-list', () => {
  it('under enforce, reports the endpoint denied with the command that allows it, and exits 26', async () => {
    const home = writeHome({ 'arcproxy.allowlist.mode': 'enforce' });
    const text = await runCheck(home, args());
    expect(text.code).toBe(26);
    expect(text.stdout).toContain('Allow-list: enforce');
    expect(text.stdout).toMatch(/^https:\/\/login\.arc-local\.test:8443 +false +deny .* allow-list-denied$/m);
    expect(text.stdout).toContain(
      'To fix: if this endpoint is expected, allow it: azcmagent config set arcproxy.allowlist login.arc-local.test:8443 --add',
    );
    const report = reportOf(await runCheck(home, [...args(), '-j']));
    expect(report.endpoints[0]).toMatchObject({ status: 'passed', route: 'direct' });
    expect(report.endpoints[1]).toMatchObject({
      status: 'failed',
      route: 'deny',
      cause: 'allow-list-denied',
      error: { code: 'ARCPROXY_DENIED' },
      dns: null,
      tls: null,
    });
  });

  it('under audit, lets it through with a note; allowing it under enforce makes it pass', async () => {
    const audit = await runCheck(writeHome(), args());
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stdout).toContain(
      'NOTE https://login.arc-local.test:8443: not in the allow-list: arcproxy.allowlist.mode enforce would refuse it',
    );
    const allowed = await runCheck(
      writeHome({
        'arcproxy.allowlist.mode': 'enforce',
        'arcproxy.allowlist': ['login.arc-local.test:8443'],
      }),
      args(),
    );
    expect(allowed.code, allowed.stdout).toBe(0);
  });
});
