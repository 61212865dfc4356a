// `azcmagent run`: the agent's daemons in the foreground. Prints one readiness line per service on
// stdout, logs to <home>/log/<service>.log (or stderr with --log-stderr), drains on SIGTERM/SIGINT.
// Log files rotate by size in-process (core/log-file.ts): at most --log-max-files of --log-max-size.
import type { Command } from 'commander';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  AgentError,
  DEFAULT_LOG_MAX_BYTES,
  DEFAULT_LOG_MAX_FILES,
  createLogger,
  ensureHome,
  openLogFile,
  readAgentState,
  resolveHome,
  type HomeLayout,
} from '../core/index.ts';
import { DEFAULT_PROXY_PORT, startArcProxyService } from '../proxy/index.ts';
import { fail, type GlobalOptions } from './output.ts';

const SERVICES = ['arcproxy', 'himds', 'extd', 'gcad'] as const;
const BUILT = new Set<string>(['arcproxy', 'himds']);
const DEFAULT_HIMDS_PORT = 40342;
const DRAIN_MS = 10_000;
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type Level = (typeof LEVELS)[number];

interface RunOptions extends GlobalOptions {
  services: string;
  proxyPort: string;
  himdsPort: string;
  cloud: string;
  logStderr?: boolean;
  verbose?: boolean;
  logLevel: string;
  logMaxSize: string;
  logMaxFiles: string;
}

interface RunPlan {
  wanted: string[];
  port: number;
  himdsPort: number;
  level: Level;
  maxBytes: number;
  maxFiles: number;
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
      '--himds-port <port>',
      'HIMDS (metadata and identity) port on 127.0.0.1 (0 picks a free one)',
      String(DEFAULT_HIMDS_PORT),
    )
    .option(
      '--cloud <cloud>',
      'the cloud whose endpoints the Arc Proxy allows and resolves, until the machine is connected (then: its cloud)',
      'AzureCloud',
    )
    .option('--log-level <level>', 'fatal, error, warn, info or debug (-v: debug)', 'info')
    .option(
      '--log-max-size <size>',
      'rotate a log file at this size: bytes, or with K, M or G',
      `${DEFAULT_LOG_MAX_BYTES / 1024 / 1024}M`,
    )
    .option(
      '--log-max-files <n>',
      'log files kept per service, the current one included',
      String(DEFAULT_LOG_MAX_FILES),
    )
    .action(async (_opts: RunOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RunOptions>();
      try {
        // -v means debug unless --log-level was given (on the command line or in --config).
        const levelGiven = cmd.getOptionValueSource('logLevel') !== 'default';
        await run(
          opts,
          checkOptions({ ...opts, logLevel: opts.verbose && !levelGiven ? 'debug' : opts.logLevel }),
          cmd.getOptionValueSource('cloud') !== 'default',
        );
      } catch (err) {
        fail(err, opts.json);
      }
    });
}

/** 4096, 512K, 10M, 1G (powers of 1024); undefined for anything else. */
export function parseByteSize(text: string): number | undefined {
  const m = /^(\d+)\s*([KMG]i?B?|B)?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? 'B').charAt(0).toUpperCase();
  const bytes = Number(m[1]) * 1024 ** 'BKMG'.indexOf(unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

function checkOptions(opts: RunOptions): RunPlan {
  const bad = (what: string) => new AgentError('ARGUMENT_INVALID', what);
  const wanted = opts.services
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = wanted.filter((s) => !(SERVICES as readonly string[]).includes(s));
  if (unknown.length > 0)
    throw bad(`unknown service ${unknown.join(', ')}; choose from ${SERVICES.join(', ')}`);
  const port = Number(opts.proxyPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw bad(`--proxy-port ${opts.proxyPort}: a port from 0 to 65535`);
  const himdsPort = Number(opts.himdsPort);
  if (!Number.isInteger(himdsPort) || himdsPort < 0 || himdsPort > 65535)
    throw bad(`--himds-port ${opts.himdsPort}: a port from 0 to 65535`);
  if (!(LEVELS as readonly string[]).includes(opts.logLevel))
    throw bad(`--log-level ${opts.logLevel}: fatal, error, warn, info or debug`);
  const maxBytes = parseByteSize(opts.logMaxSize);
  if (maxBytes === undefined || maxBytes < 1024)
    throw bad(`--log-max-size ${opts.logMaxSize}: a size of at least 1K, e.g. 10M or 512K`);
  const maxFiles = Number(opts.logMaxFiles);
  if (!Number.isInteger(maxFiles) || maxFiles < 1 || maxFiles > 1000)
    throw bad(`--log-max-files ${opts.logMaxFiles}: a number from 1 to 1000`);
  return { wanted, port, himdsPort, level: opts.logLevel as Level, maxBytes, maxFiles };
}

/** The service's log destination: stderr with --log-stderr, else its rotating file under <home>/log. */
function serviceLogDestination(home: HomeLayout, service: string, opts: RunOptions, plan: RunPlan) {
  if (opts.logStderr) return { destination: pino.destination({ fd: 2, sync: false }), where: 'stderr' };
  const path = join(home.log, `${service}.log`);
  const destination = openLogFile({
    path,
    maxBytes: plan.maxBytes,
    maxFiles: plan.maxFiles,
    onError: (err) => process.stderr.write(`azcmagent: ${service} log not rotated: ${err.message}\n`),
  });
  return { destination, where: path };
}

async function run(opts: RunOptions, plan: RunPlan, cloudGiven: boolean): Promise<void> {
  for (const s of plan.wanted.filter((s) => !BUILT.has(s)))
    process.stderr.write(`azcmagent: ${s} is not built yet; not started\n`);
  if (!plan.wanted.includes('arcproxy'))
    throw new AgentError(
      'ARGUMENT_INVALID',
      "the Arc Proxy carries every other service's traffic: include arcproxy in --services",
    );

  const home = resolveHome(opts.home, process.env);
  await ensureHome(home);
  // The connected cloud decides what the proxy allows and how it resolves, unless --cloud says otherwise.
  const connectedCloud = cloudGiven ? undefined : (await readAgentState(home.agentConfig))?.cloud;
  const proxyLog = serviceLogDestination(home, 'arcproxy', opts, plan);
  const log = createLogger({ name: 'arcproxy', level: plan.level, destination: proxyLog.destination });
  const service = await startArcProxyService({
    home,
    log,
    port: plan.port,
    cloud: connectedCloud ?? opts.cloud,
    env: process.env,
  });
  const proxyUrl = `http://127.0.0.1:${service.address.port}`;
  const stops: (() => Promise<void>)[] = [];
  const loggers = [log];
  let himdsLine: string | undefined;
  if (plan.wanted.includes('himds')) {
    const himdsLog = serviceLogDestination(home, 'himds', opts, plan);
    const hlog = createLogger({ name: 'himds', level: plan.level, destination: himdsLog.destination });
    loggers.push(hlog);
    // Loaded on demand: fastify and undici stay out of a process that only runs the Arc Proxy.
    const { startHimdsDaemon } = await import('../services/himds/server.ts');
    const daemon = await startHimdsDaemon({ home, log: hlog, proxyUrl, port: plan.himdsPort });
    stops.push(() => daemon.stop());
    himdsLine = `azcmagent: himds ready on ${daemon.himds.url} (IDENTITY_ENDPOINT ${daemon.himds.identityEndpoint}, log ${himdsLog.where})\n`;
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`azcmagent: ${signal}, draining open tunnels for up to ${DRAIN_MS / 1000} s\n`);
    Promise.all(stops.map((f) => f()))
      .then(() => service.stop(DRAIN_MS))
      .then(
        () => {
          log.info('arcproxy stopped');
          let pending = loggers.length;
          for (const l of loggers) l.flush(() => --pending === 0 && process.exit(0));
        },
        (err: unknown) => fail(err, opts.json),
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const { address, port: boundPort } = service.address;
  log.info({ address, port: boundPort, home: home.root }, 'arcproxy ready');
  process.stdout.write(
    `azcmagent: arcproxy ready on http://${address}:${boundPort} (home ${home.root}, log ${proxyLog.where})\n`,
  );
  if (himdsLine) process.stdout.write(himdsLine);
}
