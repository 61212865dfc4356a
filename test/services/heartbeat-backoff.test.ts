// The heartbeat against a cloud that is down for a simulated hour: attempts back off exponentially
// with jitter up to the interval, so the cloud sees a trickle, not a storm; the failure shows in
// agentconfig.json (what `show` prints). Real Arc Proxy and sockets; only the clock is simulated.
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { readAgentState, resolveHome, writeAgentState, type CloudProfile } from '../../core/index.ts';
import {
  backoffDelay,
  saveMachineIdentity,
  startHeartbeat,
  identityStore,
} from '../../services/himds/index.ts';
import { makePki, memoryLogger, startProxy, tempDir, type TestProxy } from '../helpers/world.ts';

let proxy: TestProxy | undefined;
afterEach(async () => {
  await proxy?.close();
});

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('heartbeat backoff', () => {
  it('computes capped, jittered exponential delays', () => {
    const interval = 300_000;
    expect([1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, interval, () => 0))).toEqual([
      7_500, 15_000, 30_000, 60_000, 120_000, 150_000, 150_000,
    ]);
    expect([1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, interval, () => 1))).toEqual([
      15_000, 30_000, 60_000, 120_000, 240_000, 300_000, 300_000,
    ]);
  });

  it('makes no retry storm while the cloud is down for an hour', async () => {
    const home = resolveHome(tempDir(), {});
    const down = await closedPort();
    const cloud: CloudProfile = {
      name: 'Down',
      endpoints: {
        arm: 'https://arm.down.test',
        login: 'https://login.down.test',
        hisGlobal: 'https://gbl.his.down.test',
        guestConfiguration: '',
        notifications: '',
        gatewayDomain: '',
      },
      allow: [{ host: 'gbl.his.down.test', port: 443, purpose: 'identity' }],
      resolve: { 'gbl.his.down.test': `127.0.0.1:${down}` },
    };
    const profile = join(home.root, 'profile.json');
    writeFileSync(profile, JSON.stringify(cloud));
    proxy = await startProxy({ cloud, config: { 'arcproxy.allowlist.mode': 'enforce' } });
    const pki = makePki();
    await saveMachineIdentity(home, {
      keyPem: readFileSync(pki.keyFile, 'utf8'),
      certPem: readFileSync(pki.certFile, 'utf8'),
      caPem: pki.ca,
    });
    await writeAgentState(home.agentConfig, {
      resourceName: 'm1',
      resourceGroup: 'rg',
      subscriptionId: 's',
      tenantId: 't',
      location: 'eastus',
      cloud: profile,
      resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m1',
      status: 'Connected',
    });

    let virtual = Date.parse('2026-11-27T00:00:00Z');
    const start = virtual;
    let reachedAnHour!: () => void;
    const anHour = new Promise<void>((r) => (reachedAnHour = r));
    const { log } = memoryLogger();
    const hb = startHeartbeat({
      home,
      log,
      proxyUrl: proxy.url,
      agentVersion: 'test',
      identity: identityStore(home),
      newKeyPair: () => Promise.reject(new Error('no renewal expected')),
      metadata: () => Promise.resolve({}),
      fingerprint: () => Promise.resolve('fp'),
      now: () => new Date(virtual),
      random: () => 0.5,
      sleep: (ms) => {
        virtual += ms;
        if (virtual - start >= 3_600_000) reachedAnHour();
        return new Promise((r) => setImmediate(r));
      },
    });
    await anHour;
    await hb.stop();
    // 5-minute heartbeats alone would be 12 in an hour; the backoff adds a handful while it ramps up.
    expect(hb.attempts).toBeGreaterThanOrEqual(12);
    expect(hb.attempts).toBeLessThanOrEqual(22);
    const state = await readAgentState(home.agentConfig);
    expect(state?.errorCode).toBe('CLOUD_REQUEST_FAILED');
    expect(state?.errorDetails).toContain('gbl.his.down.test');
    // Every attempt really went to the proxy, and the proxy counted the refusals.
    const refused = proxy.proxy.meter
      .snapshot()
      .entries.find((e) => e.destination === 'gbl.his.down.test:443');
    expect(refused?.errors['ARCPROXY_UPSTREAM_REFUSED']).toBe(hb.attempts);
  });
});
