// connect's pre-check (precheckNetwork): the same probes through the running Arc Proxy that will
// carry connect's calls, over the endpoints connect calls. A refusal by that proxy's allow-list
// comes back with the proxy's own code and the command that allows the endpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentError, loadCloudProfile, resolveHome, type CloudProfile } from '../../core/index.ts';
import { precheckNetwork } from '../../cli/check/index.ts';
import { type Daemon, startDaemon } from '../helpers/cli.ts';
import { type CheckCloud, startCheckCloud, writeHome } from './check-world.ts';

let cloud: CheckCloud;
let profile: CloudProfile;
const daemons: Daemon[] = [];
beforeAll(async () => {
  cloud = await startCheckCloud();
  profile = await loadCloudProfile(cloud.profilePath);
});
afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await cloud.stop();
});

async function agent(home: string, cloudArg: string): Promise<string> {
  const daemon = await startDaemon([
    '--home',
    home,
    '--proxy-port',
    '0',
    '--himds-port',
    '0',
    '--cloud',
    cloudArg,
  ]);
  daemons.push(daemon);
  return `http://127.0.0.1:${daemon.port}`;
}

describe('precheckNetwork (connect)', () => {
  it('passes through an Arc Proxy that serves the cloud', async () => {
    const home = writeHome();
    const arcProxyUrl = await agent(home, cloud.profilePath);
    await expect(
      precheckNetwork({
        home: resolveHome(home, {}),
        cloud: profile,
        region: 'eastus',
        arcProxyUrl,
        ignore: false,
      }),
    ).resolves.toBeUndefined();
  });

  it("fails with 26 naming each endpoint the proxy's allow-list refuses and the command that allows it", async () => {
    // This agent's proxy knows only the public cloud's endpoints, and enforces them.
    const home = writeHome({ 'arcproxy.allowlist.mode': 'enforce' });
    const arcProxyUrl = await agent(home, 'AzureCloud');
    const failed = await precheckNetwork({
      home: resolveHome(home, {}),
      cloud: profile,
      region: 'eastus',
      arcProxyUrl,
      ignore: false,
    }).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(AgentError);
    const err = failed as AgentError;
    expect(err.code).toBe('NETWORK_CHECK_FAILED');
    expect(err.exitCode).toBe(26);
    expect(err.message).toContain('login.arc-local.test: allow-list-denied');
    expect(err.message).toContain('azcmagent config set arcproxy.allowlist login.arc-local.test:443 --add');
    expect(err.message).toContain('management.arc-local.test');
    // Only what connect calls: the notification service is not probed.
    expect(err.message).not.toContain('guestnotificationservice');
  });
});
