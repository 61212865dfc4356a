// The key-file challenge as clients see it (../shared/reference/himds-identity.md section 1.1): a
// token request without Authorization gets 401, a JSON body and `WWW-Authenticate: Basic
// realm=<home>/tokens/<uuid>.key` with one `=`; the file holds a random secret well under 4096
// bytes, mode 0640 and group himds, in a 0750 folder; unanswered, it expires and is removed; stale
// files from earlier runs are removed at start, and nothing else in the folder is touched.
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HimdsService } from '../../../services/himds/server.ts';
import { eventually, tempDir } from '../../helpers/world.ts';
import { API, get, newHome, realmPath, startTestHimds, tokenFlow, TOKEN } from './world.ts';

const isRoot = process.getuid?.() === 0;
let himds: HimdsService | undefined;
afterEach(async () => {
  await himds?.stop();
  himds = undefined;
});

const ask = (h: HimdsService, headers?: Record<string, string>) =>
  get(`${h.url}${TOKEN}?${API}&resource=https%3A%2F%2Fvault.azure.net`, headers);

describe('the key-file challenge', () => {
  it('answers 401 with a JSON body and a realm path in <home>/tokens, one "=" only', async () => {
    const started = await startTestHimds();
    himds = started.himds;
    const a = await ask(himds);
    expect(a.status).toBe(401);
    expect(a.headers.get('content-type')).toMatch(/^application\/json/);
    expect(a.body).toEqual({ error: 'unauthorized_client', error_description: expect.any(String) as string });
    const header = a.headers.get('www-authenticate')!;
    expect(header.split('=')).toHaveLength(2);
    expect(header).toMatch(/^Basic realm=/);
    expect(realmPath(a)).toMatch(new RegExp(`^${started.home.tokens}/[0-9a-f-]{36}\\.key$`));
  });

  it('writes a random secret under 4096 bytes, 0640 and group himds, in a 0750 folder', async () => {
    const groups = join(tempDir(), 'group');
    await writeFile(groups, 'root:x:0:\nhimds:x:4242:alice\n');
    const started = await startTestHimds({ groupFile: groups });
    himds = started.himds;
    const [a, b] = [await ask(himds), await ask(himds)];
    const [fa, fb] = [realmPath(a), realmPath(b)];
    expect(fa).not.toBe(fb);
    const [sa, sb] = [await readFile(fa, 'utf8'), await readFile(fb, 'utf8')];
    expect(sa).not.toBe(sb);
    expect(sa).toMatch(/^[0-9a-f]{64}$/);
    const file = await stat(fa);
    expect(file.size).toBeLessThan(4096);
    expect(file.mode & 0o777).toBe(0o640);
    const dir = await stat(started.home.tokens);
    expect(dir.mode & 0o777).toBe(0o750);
    if (isRoot) {
      expect(file.gid).toBe(4242);
      expect(dir.gid).toBe(4242);
    }
  });

  it('keeps 0640 whatever the umask', async () => {
    const old = process.umask(0o077);
    try {
      const started = await startTestHimds();
      himds = started.himds;
      expect((await stat(realmPath(await ask(himds)))).mode & 0o777).toBe(0o640);
      expect((await stat(started.home.tokens)).mode & 0o777).toBe(0o750);
    } finally {
      process.umask(old);
    }
  });

  it('refuses a secret once its challenge has expired, and removes the file', async () => {
    let t = Date.now();
    const started = await startTestHimds({ now: () => new Date(t), challengeTtlMs: 60_000 });
    himds = started.himds;
    const a = await ask(himds);
    const secret = await readFile(realmPath(a), 'utf8');
    t += 61_000;
    const b = await ask(himds, { Metadata: 'true', Authorization: `Basic ${secret}` });
    expect(b.status).toBe(401);
    expect(b.body['error_description']).toContain('used already or expired');
    expect(realmPath(b)).not.toBe(realmPath(a)); // a fresh challenge to answer instead
    await eventually(() => !existsSync(realmPath(a)));
  });

  it('reuses the file of an answered challenge with a new secret; the spent one never works again', async () => {
    const started = await startTestHimds();
    himds = started.himds;
    const query = `${API}&resource=https%3A%2F%2Fvault.azure.net`;
    const first = await tokenFlow(himds.url, query);
    expect(first.answer.status).toBe(200);
    const next = await ask(himds);
    expect(realmPath(next)).toBe(realmPath(first.challenge)); // answered: its file is free again
    const secret = await readFile(realmPath(next), 'utf8');
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(secret).not.toBe(first.secret);
    expect((await stat(realmPath(next))).mode & 0o777).toBe(0o640);
    const spent = await ask(himds, { Metadata: 'true', Authorization: `Basic ${first.secret}` });
    expect(spent.status).toBe(401);
    expect((await ask(himds, { Metadata: 'true', Authorization: `Basic ${secret}` })).status).toBe(200);
  });

  it('never gives two open challenges the same file', async () => {
    ({ himds } = await startTestHimds());
    const open = await Promise.all(Array.from({ length: 8 }, () => ask(himds!)));
    expect(new Set(open.map(realmPath)).size).toBe(8);
    const secrets = await Promise.all(open.map((a) => readFile(realmPath(a), 'utf8')));
    expect(new Set(secrets).size).toBe(8);
  });

  it('removes the file of an answered challenge once it has been idle, leaving an empty folder', async () => {
    const started = await startTestHimds({ challengeTtlMs: 1_000 });
    himds = started.himds;
    const { answer, challenge } = await tokenFlow(himds.url, `${API}&resource=https%3A%2F%2Fvault.azure.net`);
    expect(answer.status).toBe(200);
    await eventually(() => !existsSync(realmPath(challenge)), 5_000);
    expect(await readdir(started.home.tokens)).toEqual([]);
  });

  it('removes an unanswered challenge file after its time to live', async () => {
    const started = await startTestHimds({ challengeTtlMs: 1_000 });
    himds = started.himds;
    const path = realmPath(await ask(himds));
    expect(existsSync(path)).toBe(true);
    await eventually(() => !existsSync(path), 5_000);
  });

  it('removes stale challenge files at start, and nothing else', async () => {
    const home = await newHome();
    await mkdir(home.tokens, { recursive: true });
    const old = join(home.tokens, '0b7c9a3e-1d2f-4e5a-8b6c-7d8e9f0a1b2c.key');
    const young = join(home.tokens, '1b7c9a3e-1d2f-4e5a-8b6c-7d8e9f0a1b2c.key');
    const spent = join(home.tokens, '2b7c9a3e-1d2f-4e5a-8b6c-7d8e9f0a1b2c.used');
    const other = join(home.tokens, 'notes.txt');
    for (const f of [old, young, spent, other]) await writeFile(f, 'x');
    const hourAgo = new Date(Date.now() - 3_600_000);
    for (const f of [old, spent, other]) await utimes(f, hourAgo, hourAgo);
    ({ himds } = await startTestHimds({ home }));
    expect(existsSync(old)).toBe(false);
    expect(existsSync(spent)).toBe(false);
    expect(existsSync(young)).toBe(true); // young enough to be another HIMDS's open challenge
    expect(existsSync(other)).toBe(true);
  });

  it('removes, while running, a file another HIMDS left once it is older than the time to live', async () => {
    const started = await startTestHimds({ challengeTtlMs: 1_000 });
    himds = started.himds;
    const foreign = join(started.home.tokens, '3b7c9a3e-1d2f-4e5a-8b6c-7d8e9f0a1b2c.key');
    await writeFile(foreign, 'x');
    const own = realmPath(await ask(himds)); // open, and then unanswered: removed at its expiry
    await eventually(() => !existsSync(foreign) && !existsSync(own), 8_000);
  });

  it('removes the files of unanswered challenges when it stops', async () => {
    const started = await startTestHimds();
    const path = realmPath(await ask(started.himds));
    await started.himds.stop();
    expect(existsSync(path)).toBe(false);
  });

  it('makes the tokens folder again if it is removed while running', async () => {
    const started = await startTestHimds();
    himds = started.himds;
    await rm(started.home.tokens, { recursive: true });
    const a = await ask(himds);
    expect(a.status).toBe(401);
    expect((await stat(started.home.tokens)).mode & 0o777).toBe(0o750);
    expect(existsSync(realmPath(a))).toBe(true);
  });

  it('answers 429 beyond the limit of unanswered challenges', async () => {
    ({ himds } = await startTestHimds({ maxOutstandingChallenges: 2 }));
    expect((await ask(himds)).status).toBe(401);
    expect((await ask(himds)).status).toBe(401);
    const third = await ask(himds);
    expect(third.status).toBe(429);
    expect(third.body['error']).toBe('too_many_requests');
  });
});
