// Only root and members of the `himds` group can answer a challenge, because only they can read the
// key file (the real agent's security model, ../shared/reference/himds-identity.md section 1.1): an
// unprivileged user, made here with useradd and run with runuser, follows the documented steps and
// gets no token, while a member of `himds` following the same steps does.
// Needs root (useradd, groupadd, runuser); skipped otherwise.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HimdsService } from '../../../services/himds/server.ts';
import { execFileP } from '../../helpers/world.ts';
import { startTestHimds } from './world.ts';

const isRoot = process.getuid?.() === 0;
if (!isRoot)
  console.warn('skipping the key-file permission tests: they need root (useradd, groupadd, runuser)');

const run = (cmd: string, args: string[]) => execFileP(cmd, args);
const groupExists = (name: string) =>
  run('getent', ['group', name]).then(
    () => true,
    () => false,
  );

/** The documented two steps, as the given user; prints the final answer (or why there is none). */
const asUser = async (user: string, port: number) => {
  const url = `http://127.0.0.1:${port}/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https%3A%2F%2Fvault.azure.net`;
  const script = `
path=$(curl -s -D - -H Metadata:true "${url}" | grep Www-Authenticate | cut -d "=" -f 2 | tr -d "[:cntrl:]")
secret=$(cat "$path" 2>/dev/null) || { echo "CANNOT_READ $path"; secret=guess; }
curl -s -H Metadata:true -H "Authorization: Basic $secret" "${url}"`;
  const { stdout } = await execFileP('runuser', ['-u', user, '--', 'sh', '-c', script]);
  return stdout;
};

describe.skipIf(!isRoot)('who may answer a challenge', () => {
  const suffix = randomBytes(3).toString('hex');
  const outsider = `azcmt-out-${suffix}`;
  const member = `azcmt-mem-${suffix}`;
  const made: { users: string[]; group: boolean } = { users: [], group: false };
  let himds: HimdsService;

  beforeAll(async () => {
    if (!(await groupExists('himds'))) {
      await run('groupadd', ['--system', 'himds']);
      made.group = true;
    }
    await run('useradd', ['-M', '-N', '-s', '/bin/sh', outsider]);
    made.users.push(outsider);
    await run('useradd', ['-M', '-N', '-s', '/bin/sh', '-G', 'himds', member]);
    made.users.push(member);
    ({ himds } = await startTestHimds()); // looks up himds in /etc/group now
  });

  afterAll(async () => {
    await himds?.stop();
    for (const u of made.users) await run('userdel', [u]).catch(() => {});
    if (made.group) await run('groupdel', ['himds']).catch(() => {});
  });

  it('an unprivileged user cannot read the key file and so gets no token', async () => {
    const out = await asUser(outsider, himds.address.port);
    expect(out).toMatch(/^CANNOT_READ \/.*\.key$/m);
    const answer = JSON.parse(out.split('\n').pop()!) as Record<string, string>;
    expect(answer['access_token']).toBeUndefined();
    expect(answer['error']).toBe('unauthorized_client');
  });

  it('a member of the himds group reads it and gets a token', async () => {
    const out = await asUser(member, himds.address.port);
    expect(out).not.toContain('CANNOT_READ');
    const answer = JSON.parse(out) as Record<string, string>;
    expect(answer['access_token']).toMatch(/^ey/);
    expect(answer['resource']).toBe('https://vault.azure.net');
  });
});
