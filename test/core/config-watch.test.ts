// watchLocalConfig is how a running Arc Proxy learns of `azcmagent config set` without a restart:
// a change by another process arrives within a second, a bad file goes to onError and never to
// onChange, and after close() nothing arrives at all.
import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  watchLocalConfig,
  writeLocalConfig,
  type AgentError,
  type ConfigWatcher,
  type LocalConfig,
} from '../../core/index.ts';
import { eventually, tempDir } from '../helpers/world.ts';
import { coreModule, exited, spawnTs } from './ts-child.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Watched {
  path: string;
  changes: LocalConfig[];
  errors: unknown[];
  watcher: ConfigWatcher;
}

const watchers: ConfigWatcher[] = [];
afterEach(() => {
  for (const w of watchers.splice(0)) w.close();
});

function watchFresh(): Watched {
  const path = join(tempDir(), 'localconfig.json');
  const changes: LocalConfig[] = [];
  const errors: unknown[] = [];
  const watcher = watchLocalConfig(
    path,
    (config) => changes.push(config),
    (err) => errors.push(err),
  );
  watchers.push(watcher);
  return { path, changes, errors, watcher };
}

/** `azcmagent config set` from another process: a child that writes and exits. */
async function setFromAnotherProcess(path: string, config: Record<string, unknown>): Promise<void> {
  const child = spawnTs(
    `import { writeLocalConfig } from ${JSON.stringify(coreModule('config.ts'))};
     await writeLocalConfig(process.argv[2], JSON.parse(process.argv[3]));`,
    [path, JSON.stringify(config)],
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  expect(await exited(child), stderr).toBe(0);
}

describe('watchLocalConfig', () => {
  it('delivers a change written by another process within a second', async () => {
    const w = watchFresh();
    await setFromAnotherProcess(w.path, {
      'proxy.url': 'http://proxy.contoso.com:8080',
      'arcproxy.allowlist.mode': 'enforce',
    });
    await eventually(() => w.changes.length > 0, 1_000);
    expect(w.changes.at(-1)).toMatchObject({
      'proxy.url': 'http://proxy.contoso.com:8080',
      'arcproxy.allowlist.mode': 'enforce',
    });
    expect(w.errors).toEqual([]);
  });

  it('delivers each of several changes in turn', async () => {
    const w = watchFresh();
    for (const mode of ['enforce', 'audit', 'enforce'] as const) {
      await writeLocalConfig(w.path, { 'arcproxy.allowlist.mode': mode });
      await eventually(() => w.changes.at(-1)?.['arcproxy.allowlist.mode'] === mode, 1_000);
      await sleep(100);
    }
    expect(w.errors).toEqual([]);
  });

  it('sends malformed JSON and invalid values to onError, never to onChange', async () => {
    const w = watchFresh();
    await writeFile(w.path, '{"proxy.url": "http://half');
    await eventually(() => w.errors.length > 0, 1_000);
    expect((w.errors[0] as AgentError).code).toBe('CONFIG_UNREADABLE');

    await writeFile(w.path, JSON.stringify({ 'proxy.url': 'ftp://x', 'extensions.agent.cpulimit': 0 }));
    await eventually(() => w.errors.length > 1, 1_000);
    expect((w.errors.at(-1) as AgentError).code).toBe('CONFIG_INVALID');
    await sleep(200);
    expect(w.changes).toEqual([]);

    await writeLocalConfig(w.path, { 'proxy.url': 'http://good:3128' });
    await eventually(() => w.changes.length > 0, 1_000);
    expect(w.changes.map((c) => c['proxy.url'])).toEqual(['http://good:3128']);
  });

  it('ignores other files in the same folder', async () => {
    const w = watchFresh();
    const dir = join(w.path, '..');
    await writeFile(join(dir, 'agentconfig.json'), '{}');
    await writeFile(join(dir, 'localconfig.json.bak'), '{"proxy.url": "ftp://not-me"}');
    await writeFile(join(dir, 'notes.txt'), 'hello');
    await sleep(300);
    expect(w.changes).toEqual([]);
    expect(w.errors).toEqual([]);
  });

  it('delivers nothing after close()', async () => {
    const w = watchFresh();
    w.watcher.close();
    await writeLocalConfig(w.path, { 'proxy.url': 'http://after-close:1' });
    await writeFile(w.path, 'not json');
    await sleep(400);
    expect(w.changes).toEqual([]);
    expect(w.errors).toEqual([]);
  });

  // close() clears the debounce timer but not a read already under way, whose result still reaches
  // onChange. A FIFO at the config path holds that read open for as long as the test needs: the
  // non-blocking open for writing succeeds only once the watcher's read has opened the other end.
  it('delivers nothing after close(), even from a read that was under way', async () => {
    const w = watchFresh();
    execFileSync('mkfifo', [w.path]);
    let writer: Awaited<ReturnType<typeof open>> | undefined;
    await eventually(async () => {
      writer = await open(w.path, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined);
      return writer !== undefined;
    }, 2_000);
    w.watcher.close();
    await writer!.write(JSON.stringify({ 'proxy.url': 'http://after-close:1' }));
    await writer!.close();
    await sleep(300);
    expect(w.changes).toEqual([]);
  });
});
