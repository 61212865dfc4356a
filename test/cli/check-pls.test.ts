// --enable-pls-check: a private-link endpoint whose name resolves to a public address fails with
// its own cause, whatever happens next (the public address is usually blocked anyway). The lookup is
// injected here: no test network has a public address to resolve to, so it gives 203.0.113.10
// (TEST-NET-3, RFC 5737: public, and routed nowhere).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCloudProfile, resolveHome, type CloudProfile } from '../../core/index.ts';
import { runNetworkChecks } from '../../cli/check/index.ts';
import { type CheckCloud, startCheckCloud, writeHome, writeProfile } from './check-world.ts';

let cloud: CheckCloud;
let profile: CloudProfile;
beforeAll(async () => {
  cloud = await startCheckCloud();
  // A name the resolve map does not cover goes to DNS, i.e. to the injected lookup.
  profile = await loadCloudProfile(
    writeProfile(cloud, {
      check: [
        { url: 'https://login.arc-local.test', purpose: 'tokens', need: 'required' },
        { url: 'https://pl.his.arc-local.test', purpose: 'identity', need: 'required', privateLink: true },
      ],
    }),
  );
});
afterAll(() => cloud.stop());

const lookup = (address: string) => () => Promise.resolve([{ address, family: 4 }]);

describe('azcmagent check --enable-pls-check', () => {
  it('fails a private-link endpoint that resolves to a public address', async () => {
    const report = await runNetworkChecks({
      home: resolveHome(writeHome(), {}),
      cloud: profile,
      region: 'eastus',
      plsCheck: true,
      lookup: lookup('203.0.113.10'),
      // The public address is not dialled for long: what matters is the cause found before it.
      timeouts: { connectMs: 200 },
    });
    expect(report.passed).toBe(false);
    expect(report.endpoints[0]).toMatchObject({ status: 'passed' });
    expect(report.endpoints[1]).toMatchObject({
      status: 'failed',
      dns: { addresses: ['203.0.113.10'], private: false, source: 'dns' },
      cause: 'not-private',
      error: { code: 'ENDPOINT_NOT_PRIVATE', message: expect.stringContaining('203.0.113.10') },
    });
  });

  it('does not hold a private address against it, nor a public one without the flag', async () => {
    const base = {
      home: resolveHome(writeHome(), {}),
      cloud: profile,
      region: 'eastus',
      timeouts: { connectMs: 200 },
    };
    const privately = await runNetworkChecks({ ...base, plsCheck: true, lookup: lookup('10.1.2.3') });
    expect(privately.endpoints[1]?.dns).toMatchObject({ addresses: ['10.1.2.3'], private: true });
    expect(privately.endpoints[1]?.cause).not.toBe('not-private');
    const unflagged = await runNetworkChecks({ ...base, lookup: lookup('203.0.113.10') });
    expect(unflagged.endpoints[1]?.dns).toMatchObject({ private: false });
    expect(unflagged.endpoints[1]?.cause).not.toBe('not-private');
  });
});
