// Runs the built bin (dist/arc-local-cloud.js, made by the global setup) as users do.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const CLOUD_BIN = resolve(import.meta.dirname, '../../dist/arc-local-cloud.js');

export interface CloudProcess {
  proc: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts arc-local-cloud and resolves once its readiness line names the port. */
export function startCloudProcess(args: string[]): Promise<CloudProcess> {
  const proc = spawn(process.execPath, [CLOUD_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`no readiness line; stdout: ${out} stderr: ${err}`));
    }, 20_000);
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /arc-local-cloud: ready on https:\/\/127\.0\.0\.1:(\d+) /.exec(out);
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
