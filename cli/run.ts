// `azcmagent run`: the agent's daemons in the foreground. Prints one readiness line per service on
// stdout, logs to <home>/log/<service>.log (or stderr with --log-stderr), drains on SIGTERM/SIGINT.
import type { Command } from 'commander';
import { join } from 'node:path';
import { pino } from 'pino';
import { AgentError, createLogger, ensureHome, resolveHome } from '../core/index.ts';
import { DEFAULT_PROXY_PORT, startArcProxyService } from '../proxy/index.ts';
import { fail, type GlobalOptions } from './output.ts';

const SERVICES = ['arcproxy', 'himds', 'extd', 'gcad'] as const;
const BUILT = new Set<string>(['arcproxy']);
const DRAIN_MS = 10_000;

interface RunOptions extends GlobalOptions {
  services: string;
  proxyPort: string;
  cloud: string;
  logStderr?: boolean;
  logLevel: string;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the agent services in the foreground')
    .option(
      '--services <list>',
      `comma-separated services to run: ${SERVICES.join(', ')}`,
      SERVICES.join(','),
    )
    .option(
      '--proxy-port <port>',
      'Arc Proxy port on 127.0.0.1 (0 picks a free one)',
      String(DEFAULT_PROXY_PORT),
    )
    .option(
      '--cloud <cloud>',
      'AzureCloud, AzureUSGovernment, AzureChinaCloud, or a cloud profile file',
      'AzureCloud',
    )
    .option('--log-stderr', 'log to stderr instead of <home>/log/')
    .option('--log-level <level>', 'fatal, error, warn, info or debug', 'info')
    .action(async (_opts: RunOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RunOptions>();
      try {
        await run(opts);
      } catch (err) {
        fail(err, opts.json);
      }
    });
}

async function run(opts: RunOptions): Promise<void> {
  const wanted = opts.services
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = wanted.filter((s) => !(SERVICES as readonly string[]).includes(s));
  if (unknown.length > 0)
    throw new AgentError(
      'ARGUMENT_INVALID',
      `unknown service ${unknown.join(', ')}; choose from ${SERVICES.join(', ')}`,
    );
  const port = Number(opts.proxyPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new AgentError('ARGUMENT_INVALID', `--proxy-port ${opts.proxyPort}: a port from 0 to 65535`);
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(opts.logLevel)) {
    throw new AgentError(
      'ARGUMENT_INVALID',
      `--log-level ${opts.logLevel}: fatal, error, warn, info or debug`,
    );
  }
  for (const s of wanted.filter((s) => !BUILT.has(s)))
    process.stderr.write(`azcmagent: ${s} is not built yet; not started\n`);
  if (!wanted.includes('arcproxy'))
    throw new AgentError('ARGUMENT_INVALID', 'nothing to run: of the services, only arcproxy is built yet');

  const home = resolveHome(opts.home, process.env);
  await ensureHome(home);
  const logFile = join(home.log, 'arcproxy.log');
  const destination = opts.logStderr
    ? pino.destination({ fd: 2, sync: false })
    : pino.destination({ dest: logFile, sync: false, mkdir: true });
  const log = createLogger({ name: 'arcproxy', level: opts.logLevel as 'info', destination });
  const service = await startArcProxyService({ home, log, port, cloud: opts.cloud, env: process.env });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`azcmagent: ${signal}, draining open tunnels for up to ${DRAIN_MS / 1000} s\n`);
    service.stop(DRAIN_MS).then(
      () => {
        log.info('arcproxy stopped');
        log.flush(() => process.exit(0));
      },
      (err: unknown) => fail(err, opts.json),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const { address, port: boundPort } = service.address;
  log.info({ address, port: boundPort, home: home.root }, 'arcproxy ready');
  process.stdout.write(
    `azcmagent: arcproxy ready on http://${address}:${boundPort} (home ${home.root}, log ${opts.logStderr ? 'stderr' : logFile})\n`,
  );
}
