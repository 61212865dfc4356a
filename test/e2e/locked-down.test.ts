// The locked-down network: a machine (a network namespace) that can reach only the Arc gateway's
// address. In gateway mode connect, heartbeats, HIMDS tokens and `check` work; in direct mode `check`
// names the cause for each endpoint and exits 26. Real processes, real TLS, curl inside the namespace.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudProcess, type CloudProcess } from '../cloud/bin.ts';
import { azcmagent, startDaemon, type Daemon } from '../helpers/cli.ts';
import { createNamespace, namespacesUnavailable, type Namespace } from '../helpers/netns.ts';
import { eventually, execFileP, tempDir } from '../helpers/world.ts';

const unavailable = namespacesUnavailable();
if (unavailable) console.warn(`locked-down network test skipped: ${unavailable}`);

interface CheckJson {
  endpoints: { url: string; reachable: boolean; route: string; required: boolean; cause?: string }[];
}

describe.skipIf(unavailable !== undefined)('a machine that can reach only the Arc gateway', () => {
  let ns: Namespace;
  let cloud: CloudProcess;
  let daemon: Daemon;
  let dataDir: string;
  const home = tempDir('azcm-locked-');
  const inside = (args: string[]) => azcmagent([...args, '--home', home], {}, ns.exec);
  const curlInside = (args: string[]) =>
    execFileP(ns.exec[0]!, [...ns.exec.slice(1), 'curl', '-sS', '--max-time', '5', ...args]);

  beforeAll(async () => {
    ns = createNamespace();
    dataDir = tempDir('azcm-cloud-');
    cloud = await startCloudProcess([
      '--data',
      dataDir,
      '--port',
      '0',
      '--gateway-host',
      ns.hostAddress,
      '--gateway-port',
      '0',
      '--heartbeat-interval',
      '2',
    ]);
    daemon = await startDaemon(
      ['--home', home, '--proxy-port', '0', '--himds-port', '0', '--cloud', join(dataDir, 'profile.json')],
      {},
      ns.exec,
    );
  }, 60_000);
  afterAll(async () => {
    await daemon?.stop();
    await cloud?.stop();
    ns?.remove();
  });

  it('cannot reach the cloud except through the gateway', async () => {
    // The cloud's own listener is on the host's loopback: from inside, that is nobody.
    await expect(curlInside([`https://127.0.0.1:${cloud.port}/`])).rejects.toThrow();
  });

  it('connects through the gateway, heartbeats, and hands out HIMDS tokens', async () => {
    const connected = await inside(['connect', '--config', join(dataDir, 'connect-gateway.json')]);
    expect(connected.code, connected.stderr).toBe(0);
    const show = async () => JSON.parse((await inside(['show', '-j'])).stdout) as Record<string, string>;
    await eventually(async () => (await show())['lastHeartbeat'] !== '', 20_000);
    expect(await show()).toMatchObject({ status: 'Connected' });
    expect((await show())['gatewayUrl']).toMatch(/^https:\/\/.+\.gw\.arc-local\.test/);

    // The documented two steps of the HIMDS challenge, with curl inside the namespace.
    const himds = /himds ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(daemon.stdout())![1]!;
    const url = `${himds}/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https://management.arc-local.test`;
    const challenge = await curlInside(['-H', 'Metadata: true', '-D', '-', '-o', '/dev/null', url]);
    const keyFile = /Basic realm=(\S+)/.exec(challenge.stdout)![1]!;
    const secret = readFileSync(keyFile, 'utf8');
    const token = await curlInside(['-H', 'Metadata: true', '-H', `Authorization: Basic ${secret}`, url]);
    expect(JSON.parse(token.stdout)).toMatchObject({
      token_type: 'Bearer',
      access_token: expect.any(String),
    });

    // Every byte to the cloud went the gateway route.
    const stats = JSON.parse((await inside(['proxy', 'stats', '--json'])).stdout) as {
      entries: { destination: string; route: string }[];
    };
    const toCloud = stats.entries.filter((e) => e.destination.endsWith('.arc-local.test:443'));
    expect(toCloud.length).toBeGreaterThan(0);
    expect(new Set(toCloud.map((e) => e.route))).toEqual(new Set(['gateway']));
  }, 90_000);

  it('passes `check` in gateway mode', async () => {
    const r = await inside(['check', '-j']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as CheckJson;
    const required = report.endpoints.filter((x) => x.required);
    for (const e of required) expect(e, e.url).toMatchObject({ reachable: true });
    // The gateway itself is the one address reached straight; everything else goes through it.
    const [gateway, ...rest] = [
      ...required.filter((e) => e.url.includes('.gw.')),
      ...required.filter((e) => !e.url.includes('.gw.')),
    ];
    expect(gateway).toMatchObject({ route: 'direct' });
    expect(rest.length).toBeGreaterThan(2);
    for (const e of rest) expect(e, e.url).toMatchObject({ route: 'gateway' });
  }, 60_000);

  it('fails `check` in direct mode, naming the cause for each endpoint, with exit code 26', async () => {
    const set = await inside(['config', 'set', 'connection.type', 'direct']);
    expect(set.code, set.stderr).toBe(0);
    const r = await inside(['check', '-j']);
    expect(r.code).toBe(26);
    const report = JSON.parse(r.stdout) as CheckJson;
    const required = report.endpoints.filter((x) => x.required);
    expect(required.length).toBeGreaterThan(0);
    for (const e of required) {
      // Each name resolves (the profile's resolve map) to the host's loopback: nothing listens there.
      expect(e, e.url).toMatchObject({ reachable: false, route: 'direct', cause: 'tcp-refused' });
    }
  }, 60_000);
});
