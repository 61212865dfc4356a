// Another process for tests that need one: a TypeScript snippet run by `node --import tsx`, so a test
// can have a second writer, kill it mid-write, or change files behind a watcher's back.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/world.ts';

/** The repository root: `--import tsx` resolves tsx from the working folder, so children run here. */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A URL a child's snippet can import a core module by, whatever folder the snippet lives in. */
export const coreModule = (file: string): string => new URL(`../../core/${file}`, import.meta.url).href;

export type TsChild = ChildProcessByStdio<null, Readable, Readable>;

/** Starts `source` as an ES module in a new node process; `args` arrive as process.argv[2...]. */
export function spawnTs(source: string, args: string[] = []): TsChild {
  const script = join(tempDir('azcm-child-'), 'child.mts');
  writeFileSync(script, source);
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves with the child's first line on stdout; rejects with its stderr if it exits first. */
export function firstLine(child: TsChild): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const newline = out.indexOf('\n');
      if (newline >= 0) resolve(out.slice(0, newline));
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before a line: ${err}`)));
  });
}

/** Resolves with the exit code (or the signal's name) once the child is gone. */
export function exited(child: TsChild): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
}
