// arc-local-cloud: the local cloud as a process. Prints a readiness line on stdout naming the
// port and the files it wrote (and a line naming the Arc gateway), logs to DIR/cloud.log (or stderr), and stops cleanly on SIGTERM/SIGINT.
import { Command } from 'commander';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { pino } from 'pino';
import { AgentError, createLogger, redactSecrets } from '../core/index.ts';
import { DEFAULT_GATEWAY_PORT, DEFAULT_PORT, startLocalCloud } from './index.ts';

const STOP_MS = 10_000;

interface Flags {
  data: string;
  port: string;
  host: string;
  certDays: string;
  renewDays: string;
  disconnectAfter: string;
  heartbeatInterval: string;
  gatewayPort?: string;
  gatewayHost?: string;
  gatewayAllow?: string;
  gatewayResolve?: string;
  logLevel: string;
  logStderr?: boolean;
}

const list = (text: string) =>
  text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);

/** `host=address:port,...`: names the gateway resolves itself (a lab's or a benchmark's origins). */
function resolveMap(text: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const entry of list(text)) {
    const m = /^([^=\s]+)=(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(entry);
    if (!m)
      throw new AgentError('ARGUMENT_INVALID', `--gateway-resolve ${entry}: expected host=address:port`);
    map[m[1]!.toLowerCase()] = `${m[2]}:${m[3]}`;
  }
  return map;
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
  // Open before anything can fail: pino flushes at exit, and a file still opening cannot be flushed.
  if (!flags.logStderr) await once(destination, 'ready');
  const log = createLogger({ name: 'arc-local-cloud', level: flags.logLevel as 'info', destination });
  const cloud = await startLocalCloud({
    dataDir,
    host: flags.host,
    port: number('--port', flags.port),
    certDays: number('--cert-days', flags.certDays),
    renewDays: number('--renew-days', flags.renewDays),
    disconnectAfterSeconds: number('--disconnect-after', flags.disconnectAfter),
    heartbeatIntervalSeconds: number('--heartbeat-interval', flags.heartbeatInterval),
    ...(flags.gatewayPort !== undefined ? { gatewayPort: number('--gateway-port', flags.gatewayPort) } : {}),
    ...(flags.gatewayHost !== undefined ? { gatewayHost: flags.gatewayHost } : {}),
    ...(flags.gatewayAllow !== undefined ? { gatewayAllow: list(flags.gatewayAllow) } : {}),
    ...(flags.gatewayResolve !== undefined ? { gatewayResolve: resolveMap(flags.gatewayResolve) } : {}),
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
      `arc-local-cloud: Arc gateway ${cloud.gateway.url} on ${cloud.gateway.address} (id ${cloud.gateway.id})\n` +
      `arc-local-cloud: connect a machine with: azcmagent connect --config ${cloud.files.connect}` +
      ` (through the gateway: --config ${cloud.files.connectGateway})\n`,
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
  .option('--gateway-port <port>', `Arc gateway port (default ${DEFAULT_GATEWAY_PORT}; 0 when --port is 0)`)
  .option('--gateway-host <address>', 'address the Arc gateway listens on (default: --host)')
  .option(
    '--gateway-allow <patterns>',
    'extra destinations the gateway serves, comma-separated (host[:port], *.domain[:port])',
  )
  .option(
    '--gateway-resolve <entries>',
    'names the gateway resolves itself, comma-separated host=address:port (e.g. origin.lab.test=127.0.0.1:8080)',
  )
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
      // The registry's fixes speak of azcmagent; a bad flag here is fixed from this command's help.
      const action = e?.code === 'ARGUMENT_INVALID' ? 'see arc-local-cloud --help' : e?.action;
      if (action) process.stderr.write(`  To fix: ${action}\n`);
      process.exit(e?.exitCode ?? 1);
    }
  });

await program.parseAsync(process.argv);
