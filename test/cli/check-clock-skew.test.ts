// Clock skew from the Date header of the cloud's answers: more than 120 s warns (with the fix) but
// does not fail the run; within it, the check says so.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/world.ts';
import { type CheckJson, type TlsStub, reportOf, runCheck, startTlsStub, writeHome } from './check-world.ts';

const HOST = 'clock.arc-local.test';
let offsetMs = 0;
let stub: TlsStub;
let profile: string;
beforeAll(async () => {
  stub = await startTlsStub('Clock Test CA', [HOST], { date: () => new Date(Date.now() + offsetMs) });
  const dir = tempDir('azcm-check-clock-');
  writeFileSync(join(dir, 'ca.pem'), stub.caPem);
  profile = join(dir, 'profile.json');
  const url = `https://${HOST}`;
  writeFileSync(
    profile,
    JSON.stringify({
      name: 'ClockTest',
      endpoints: {
        arm: url,
        login: url,
        hisGlobal: url,
        guestConfiguration: url,
        notifications: url,
        gatewayDomain: 'gw.arc-local.test',
      },
      allow: [{ host: HOST, port: 443, purpose: 'the only endpoint' }],
      caFile: join(dir, 'ca.pem'),
      resolve: { [HOST]: `127.0.0.1:${stub.port}` },
      check: [{ url, purpose: 'a cloud with a clock of its own', need: 'required' }],
    }),
  );
});
afterAll(() => stub.close());

const skewOf = (report: CheckJson) => report.checks.find((c) => c.name === 'clock-skew');

describe('azcmagent check: clock skew', () => {
  it('warns when the cloud is more than 120 s away, and still exits 0', async () => {
    offsetMs = -10 * 60_000;
    const args = ['--cloud', profile, '--location', 'eastus'];
    const text = await runCheck(writeHome(), args);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/WARNING clock-skew: this machine's clock is 6\d\d s ahead of the cloud's/);
    expect(text.stdout).toContain('To fix: synchronise the clock with an NTP source');
    const skew = skewOf(reportOf(await runCheck(writeHome(), [...args, '-j'])));
    expect(skew).toMatchObject({ status: 'warning', answers: 1, action: expect.stringContaining('NTP') });
    expect(
      Math.abs(Number((skew as Record<string, unknown> | undefined)?.['seconds']) + 600),
    ).toBeLessThanOrEqual(2);
  });

  it('says the clock is fine within 120 s', async () => {
    offsetMs = 30_000;
    const skew = skewOf(reportOf(await runCheck(writeHome(), ['--cloud', profile, '-l', 'eastus', '-j'])));
    expect(skew).toMatchObject({ status: 'ok', action: null });
  });
});
