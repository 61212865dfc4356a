// Every process the benchmark starts (servers that announce their port, bounded one-shot loads) goes
// through here, so that each is killed when the benchmark ends, however it ends.
import { type ChildProcess, type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

const started = new Set<ChildProcess>();

const track = <T extends ChildProcess>(child: T): T => {
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
};

/** Kills what is still running; synchronous, so it also works from process 'exit'. */
export function killAll(): void {
  for (const child of started) child.kill('SIGKILL');
}

export interface Service {
  name: string;
  child: ChildProcessWithoutNullStreams;
  pid: number;
  port: number;
}

/** Starts a server and waits for the stdout line that names its port (first group of `portLine`). */
export function startService(
  name: string,
  argv: readonly string[],
  portLine: RegExp,
  opts: { cwd: string; timeoutMs?: number },
): Promise<Service> {
  const [cmd = '', ...args] = argv;
  const child = track(spawn(cmd, args, { cwd: opts.cwd, stdio: 'pipe' }));
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${name}: ${why}\n${stderr}`));
    };
    const timer = setTimeout(() => fail('no readiness line within the time limit'), opts.timeoutMs ?? 20_000);
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before it was ready`));
    child.stdout.on('data', (d: Buffer) => {
      if (settled) return;
      stdout += d.toString();
      const port = portLine.exec(stdout)?.[1];
      if (port === undefined) return;
      settled = true;
      clearTimeout(timer);
      resolve({ name, child, pid: child.pid!, port: Number(port) });
    });
  });
}

/** SIGTERM, then SIGKILL if the service has not exited within `graceMs`. */
export async function stopService(service: Service, graceMs = 3_000): Promise<void> {
  const { child } = service;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Runs a command to completion within `timeoutMs` (killed after that) and returns its stdout. */
export function runBounded(argv: readonly string[], timeoutMs: number, cwd?: string): Promise<string> {
  const [cmd = '', ...args] = argv;
  return new Promise((resolve, reject) => {
    track(
      execFile(
        cmd,
        args,
        { cwd, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`${argv.join(' ')}: ${err.message}\n${stderr.slice(-2000)}`));
          else resolve(stdout);
        },
      ),
    );
  });
}

/** VmRSS of a process in KiB (from /proc/PID/status), or undefined if it is gone. */
export async function rssKiB(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kib === undefined ? undefined : Number(kib);
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
