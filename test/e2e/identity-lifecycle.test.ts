// The machine identity over time, through real processes: the certificate renews itself when the
// cloud says so, and a cloned machine (same identity, another host) is told so by the cloud (429)
// and `show` gives the fix. The clone runs in its own UTS namespace, so it really has another hostname.
import { spawn } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudProcess, type CloudProcess } from '../cloud/bin.ts';
import { BIN, azcmagent, startDaemon, type Daemon } from '../helpers/cli.ts';
import { eventually, tempDir } from '../helpers/world.ts';

let cloud: CloudProcess;
let dataDir: string;
const daemons: Daemon[] = [];
const stops: (() => void)[] = [];

beforeAll(async () => {
  dataDir = tempDir('azcm-cloud-');
  // Certificates due for renewal some 9 s after they are issued; a heartbeat every second.
  cloud = await startCloudProcess([
    '--data',
    dataDir,
    '--port',
    '0',
    '--cert-days',
    '2',
    '--renew-days',
    '1.9999',
    '--heartbeat-interval',
    '1',
  ]);
});
afterAll(async () => {
  for (const stop of stops) stop();
  await Promise.all(daemons.map((d) => d.stop()));
  await cloud.stop();
});

async function connectedAgent(name: string): Promise<string> {
  const home = tempDir();
  daemons.push(
    await startDaemon([
      '--home',
      home,
      '--proxy-port',
      '0',
      '--himds-port',
      '0',
      '--cloud',
      join(dataDir, 'profile.json'),
    ]),
  );
  const r = await azcmagent([
    'connect',
    '--home',
    home,
    '--config',
    join(dataDir, 'connect.json'),
    '--resource-name',
    name,
  ]);
  expect(r.code, r.stderr).toBe(0);
  return home;
}

const show = async (home: string) =>
  JSON.parse((await azcmagent(['show', '-j', '--home', home])).stdout) as Record<string, string>;

describe('machine identity', () => {
  it('renews its certificate when the cloud asks, and stays Connected', async () => {
    const home = await connectedAgent('renewing');
    const first = readFileSync(join(home, 'certs', 'machine.pem'), 'utf8');
    await eventually(() => readFileSync(join(home, 'certs', 'machine.pem'), 'utf8') !== first, 20_000);
    const lastBefore = (await show(home))['lastHeartbeat'];
    await eventually(async () => (await show(home))['lastHeartbeat'] !== lastBefore, 10_000);
    expect(await show(home)).toMatchObject({ status: 'Connected', agentErrorCode: '' });
  });

  it.skipIf(process.getuid?.() !== 0)(
    'tells a cloned machine that its identity is in use, and how to fix it',
    async () => {
      const original = await connectedAgent('cloned');
      const clone = tempDir();
      cpSync(join(original, 'certs'), join(clone, 'certs'), { recursive: true });
      cpSync(join(original, 'agentconfig.json'), join(clone, 'agentconfig.json'));
      const proc = spawn(
        'unshare',
        [
          '--uts',
          'sh',
          '-c',
          `hostname clone-of-${process.pid} && exec "${process.execPath}" "${BIN}" run --home "${clone}" --proxy-port 0 --himds-port 0 --cloud "${join(dataDir, 'profile.json')}"`,
        ],
        { stdio: 'ignore' },
      );
      stops.push(() => proc.kill('SIGTERM'));
      await eventually(async () => (await show(clone))['agentErrorCode'] === 'CLONE_DETECTED', 20_000);
      const text = (await azcmagent(['show', '--home', clone])).stdout;
      expect(text).toMatch(/Agent Error Code\s+: CLONE_DETECTED/);
      expect(text).toContain('azcmagent disconnect --force-local-only, then azcmagent connect');
      // The original keeps its identity.
      expect((await show(original))['agentErrorCode']).toBe('');
    },
  );
});
