// A writer killed at any moment (kill -9, power loss) must not leave localconfig.json half-written:
// another process writes large configurations in a loop and is killed at random points.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/world.ts';
import { coreModule, exited, firstLine, spawnTs, type TsChild } from './ts-child.ts';

// Sizes vary from one write to the next, so a file cut short or mixing two versions cannot parse
// or fails the length check below.
const WRITER = `
import { writeLocalConfig } from ${JSON.stringify(coreModule('config.ts'))};
const path = process.argv[2];
for (let i = 0; ; i++) {
  const padding = String(i % 10).repeat(500_000 + (i % 4) * 400_000);
  await writeLocalConfig(path, { 'proxy.url': 'http://proxy' + i + ':8080', 'test.padding': padding });
  if (i === 1) process.stdout.write('writing\\n');
}
`;

/** Parses a file a writer produced and checks it is one whole version; throws otherwise. */
function checkWhole(path: string): void {
  const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
  const i = Number(/^http:\/\/proxy(\d+):8080$/.exec(config['proxy.url'] ?? '')?.[1]);
  expect(Number.isInteger(i), `proxy.url is ${config['proxy.url']}`).toBe(true);
  expect(config['test.padding']).toBe(String(i % 10).repeat(500_000 + (i % 4) * 400_000));
}

/** Reads `path` over and over while `ms` passes, and returns how many reads found it broken. */
async function readWhileWriting(path: string, ms: number): Promise<{ reads: number; broken: string[] }> {
  const end = Date.now() + ms;
  const broken: string[] = [];
  let reads = 0;
  while (Date.now() < end) {
    reads++;
    try {
      checkWhole(path);
    } catch (err) {
      broken.push((err as Error).message.slice(0, 120));
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { reads, broken };
}

// The writers leave megabytes behind; each test's folder goes when it ends.
const folders: string[] = [];
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configPath(): string {
  const dir = tempDir();
  folders.push(dir);
  return join(dir, 'localconfig.json');
}

async function startWriter(path: string): Promise<TsChild> {
  const child = spawnTs(WRITER, [path]);
  expect(await firstLine(child)).toBe('writing');
  return child;
}

describe('localconfig.json under a crashing writer', () => {
  it('is always whole, for readers during the writes and after kill -9 at random moments', async () => {
    const path = configPath();
    for (let round = 0; round < 5; round++) {
      const writer = await startWriter(path);
      const { reads, broken } = await readWhileWriting(path, 50 + Math.random() * 400);
      writer.kill('SIGKILL');
      expect(await exited(writer)).toBe('SIGKILL');
      expect(reads).toBeGreaterThan(0);
      expect(broken.length, `round ${round}: a reader saw a broken file: ${broken[0]}`).toBe(0);
      checkWhole(path);
    }
  }, 90_000);

  // The .bak is what the CONFIG_UNREADABLE advice sends the user to. It is made with copyFile, which
  // truncates it and then fills it, so a reader sees it half-copied, and a crash at that moment
  // leaves it so. Replacing it atomically (link + rename) makes every read here whole.
  it('keeps localconfig.json.bak whole while the file is rewritten, so a crash cannot break it', async () => {
    const path = configPath();
    const writer = await startWriter(path);
    try {
      expect(existsSync(`${path}.bak`)).toBe(true);
      const { reads, broken } = await readWhileWriting(`${path}.bak`, 1_500);
      expect(reads).toBeGreaterThan(0);
      expect(broken.length, `${broken.length} of ${reads} reads found it broken: ${broken[0]}`).toBe(0);
    } finally {
      writer.kill('SIGKILL');
      await exited(writer);
    }
  }, 30_000);
});
