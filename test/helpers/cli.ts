// Runs the built CLI (dist/azcmagent.js) as users do: one-shot commands, and `run` as a daemon.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { execFileP } from './world.ts';

export const BIN = resolve(import.meta.dirname, '../../dist/azcmagent.js');

/** A command line that runs the CLI, optionally inside a wrapper such as `ip netns exec NS`. */
const commandLine = (args: string[], wrap: string[]): [string, string[]] =>
  wrap.length > 0
    ? [wrap[0]!, [...wrap.slice(1), process.execPath, BIN, ...args]]
    : [process.execPath, [BIN, ...args]];

export async function azcmagent(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  wrap: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(...commandLine(args, wrap), {
      env: { ...process.env, ...env },
      timeout: 20_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

export interface Daemon {
  proc: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
  /** Sends the signal (SIGTERM) unless the process has exited, and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Spawns a long-running process and resolves once its stdout matches `ready` (first group: the
 * port); rejects with what it printed if it exits first or says nothing within `timeoutMs`.
 */
export function startReadyProcess(
  [cmd, args]: [string, string[]],
  ready: RegExp,
  o: { env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Daemon> {
  const proc = spawn(cmd, args, { env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`no readiness line; stdout: ${out} stderr: ${err}`));
    }, o.timeoutMs);
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveStart({
          proc,
          port: Number(m[1]),
          stdout: () => out,
          stderr: () => err,
          stop: (signal = 'SIGTERM') => {
            if (proc.exitCode === null) proc.kill(signal);
            return exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ready; stdout: ${out} stderr: ${err}`));
    });
  });
}

/** Starts `azcmagent run` and resolves once its readiness line names the port. */
export const startDaemon = (
  args: string[],
  env: NodeJS.ProcessEnv = {},
  wrap: string[] = [],
): Promise<Daemon> =>
  startReadyProcess(commandLine(['run', ...args], wrap), /arcproxy ready on http:\/\/127\.0\.0\.1:(\d+)/, {
    env,
    timeoutMs: 15_000,
  });
