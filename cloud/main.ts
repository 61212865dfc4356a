// arc-local-cloud: the local cloud as a process. Prints one readiness line on stdout naming the
// port and the files it wrote, logs to DIR/cloud.log (or stderr), and stops cleanly on SIGTERM/SIGINT.
import { Command } from 'commander';
import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { pino } from 'pino';
import { AgentError, createLogger, redactSecrets } from '../core/index.ts';
import { DEFAULT_PORT, startLocalCloud } from './index.ts';

const STOP_MS = 10_000;

interface Flags {
  data: string;
  port: string;
  host: string;
  certDays: string;
  renewDays: string;
  disconnectAfter: string;
  heartbeatInterval: string;
  logLevel: string;
  logStderr?: boolean;
}

const number = (flag: string, text: string): number => {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n))
    throw new AgentError('ARGUMENT_INVALID', `${flag} ${text}: a number`);
  return n;
};

async function main(flags: Flags): Promise<void> {
  const dataDir = resolve(flags.data);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logFile = join(dataDir, 'cloud.log');
  const destination = flags.logStderr
    ? pino.destination({ fd: 2, sync: false })
    : pino.destination({ dest: logFile, sync: false, mkdir: true });
  const log = createLogger({ name: 'arc-local-cloud', level: flags.logLevel as 'info', destination });
  const cloud = await startLocalCloud({
    dataDir,
    host: flags.host,
    port: number('--port', flags.port),
    certDays: number('--cert-days', flags.certDays),
    renewDays: number('--renew-days', flags.renewDays),
    disconnectAfterSeconds: number('--disconnect-after', flags.disconnectAfter),
    heartbeatIntervalSeconds: number('--heartbeat-interval', flags.heartbeatInterval),
    log,
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const force = setTimeout(() => process.exit(1), STOP_MS).unref();
    cloud.close().then(
      () => {
        clearTimeout(force);
        log.info('stopped');
        log.flush(() => process.exit(0));
      },
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(
    `arc-local-cloud: ready on ${cloud.url} (profile ${cloud.files.profile}, connect config ${cloud.files.connect}, CA ${cloud.files.ca}, log ${flags.logStderr ? 'stderr' : logFile})\n` +
      `arc-local-cloud: connect a machine with: azcmagent connect --config ${cloud.files.connect}\n`,
  );
}

const program = new Command('arc-local-cloud')
  .description('a local Azure Arc control plane: Entra-shaped tokens, ARM machines, the identity service')
  .requiredOption('--data <dir>', 'folder for its database, CA and the files it writes')
  .option('--port <port>', 'HTTPS port (0 picks a free one)', String(DEFAULT_PORT))
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--cert-days <days>', 'lifetime of machine certificates', '90')
  .option('--renew-days <days>', 'renew machine certificates when this many days or fewer remain', '45')
  .option('--disconnect-after <seconds>', 'Disconnected after this long without a heartbeat', '900')
  .option('--heartbeat-interval <seconds>', 'heartbeat interval the cloud asks of agents', '300')
  .option('--log-level <level>', 'fatal, error, warn, info or debug', 'info')
  .option('--log-stderr', 'log to stderr instead of DIR/cloud.log')
  .action(async (flags: Flags) => {
    try {
      await main(flags);
    } catch (err) {
      const e = err instanceof AgentError ? err : undefined;
      process.stderr.write(
        `arc-local-cloud: ${redactSecrets(e ? `${e.code}: ${e.message}` : String((err as Error)?.message ?? err))}\n`,
      );
      if (e) process.stderr.write(`  To fix: ${e.action}\n`);
      process.exit(e?.exitCode ?? 1);
    }
  });

await program.parseAsync(process.argv);
