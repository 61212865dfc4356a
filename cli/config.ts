// `azcmagent config list | get | set | clear | info`: the settings in <home>/localconfig.json.
// Changes are read-modify-writes under the configuration lock (core/config-lock.ts), written
// atomically; running services watch the file and apply a change within a second, so `set` asks
// them whether they run and says which one took the change. Proxy credentials are never printed.
import type { Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import {
  AgentError,
  CONFIG_KEYS,
  canonicalKey,
  isAgentError,
  openCommandLog,
  readLocalConfig,
  resolveHome,
  updateLocalConfig,
  type ConfigKey,
  type HomeLayout,
  type LocalConfig,
  type Logger,
} from '../core/index.ts';
import {
  LOCKED_IN_MONITOR_MODE,
  defaultValue,
  editList,
  formatSetting,
  isListKey,
  jsonSetting,
  keyInfo,
  listLabel,
  parseSetting,
  quoteSetting,
  unknownKey,
} from './config-values.ts';
import { alignedLines } from './format.ts';
import { fail, printJson, type GlobalOptions } from './output.ts';
import { askServices, type ServiceName, type ServiceState } from './service-status.ts';

/** Which services read a key, and so are told (by the file watch) when it changes. */
function servicesFor(key: ConfigKey): ServiceName[] {
  if (key === 'config.mode') return ['himds', 'extd', 'gcad'];
  if (key.startsWith('incomingconnections.')) return ['himds'];
  if (key.startsWith('extensions.')) return ['extd'];
  if (key.startsWith('guestconfiguration.')) return ['gcad'];
  return ['arcproxy'];
}

interface SetOptions extends GlobalOptions {
  add?: boolean;
  remove?: boolean;
  verbose?: boolean;
}

/** Usage errors (a missing or extra argument, an unknown flag) end with AZCM exit 23, like ours. */
function usageErrorsExit23(cmd: Command): Command {
  return cmd.exitOverride((err) => {
    if (err.exitCode === 0) process.exit(0);
    process.stderr.write(`  To fix: see the help: azcmagent ${cmd.name()} SUBCOMMAND --help\n`);
    process.exit(23);
  });
}

export function registerConfig(program: Command): void {
  const config = usageErrorsExit23(
    program
      .command('config')
      .description('view and change the local configuration (<home>/localconfig.json)'),
  );
  config
    .command('list')
    .description('print every setting and its value')
    .action(run((opts) => list(opts)));
  config
    .command('get')
    .description('print the value of one setting')
    .argument('<key>', 'the setting, e.g. proxy.url (case-insensitive)')
    .action(run((opts, [key]) => get(opts, key ?? '')));
  config
    .command('set')
    .description('change a setting; services that run apply it within a second, without a restart')
    .argument('<key>', 'the setting, e.g. proxy.url (case-insensitive)')
    .argument('<value>', 'the new value; lists take comma-separated items, e.g. ARM,Arc')
    .option('-a, --add', 'add the items to a list setting instead of replacing it')
    .option('-r, --remove', 'remove the items from a list setting')
    .action(
      run((opts, [key, value]) =>
        logged(opts, 'config set', (log) => set(opts, log, key ?? '', value ?? '')),
      ),
    );
  config
    .command('clear')
    .description('reset a setting to its default value')
    .argument('<key>', 'the setting, e.g. proxy.url (case-insensitive)')
    .action(run((opts, [key]) => logged(opts, 'config clear', (log) => clear(opts, log, key ?? ''))));
  config
    .command('info')
    .description('describe the settings: type, default and allowed values')
    .argument('[key]', 'one setting; all of them when left out')
    .action(run((opts, [key]) => info(opts, key)));
}

/** Commander calls actions with the arguments, then the options, then the command. */
function run(fn: (opts: SetOptions, args: (string | undefined)[]) => Promise<void> | void) {
  return async (...params: unknown[]): Promise<void> => {
    const cmd = params.at(-1) as Command;
    const opts = cmd.optsWithGlobals<SetOptions>();
    const args = params.slice(0, -2).map((a) => (typeof a === 'string' ? a : undefined));
    try {
      await fn(opts, args);
    } catch (err) {
      fail(err, opts.json);
    }
  };
}

/** A change with its line in <home>/log/azcmagent.log, refusals included (code and message, no value). */
async function logged(opts: SetOptions, what: string, fn: (log: Logger) => Promise<void>): Promise<void> {
  const home = resolveHome(opts.home, process.env);
  const { log, close } = openCommandLog({ logDir: home.log, verbose: opts.verbose });
  try {
    await fn(log);
  } catch (err) {
    if (isAgentError(err)) log.warn({ code: err.code, action: err.action }, `${what}: ${err.message}`);
    else log.error({ err }, `${what} failed`);
    throw err;
  } finally {
    await close();
  }
}

function requireKey(given: string): ConfigKey {
  const key = canonicalKey(given);
  if (key === undefined) throw unknownKey(given);
  return key;
}

/** The configuration, with a value that is wrong in the file reported with the way to repair it. */
async function readConfig(home: HomeLayout): Promise<LocalConfig> {
  try {
    return await readLocalConfig(home.localConfig);
  } catch (err) {
    if (isAgentError(err) && err.code === 'CONFIG_INVALID') {
      // parseLocalConfig's detail is "<path>: <key>: ..."; name the key in the fix when it is one of ours.
      const key = canonicalKey(err.detail?.slice(home.localConfig.length + 2).split(':')[0] ?? '');
      const action = key
        ? `repair the value: azcmagent config set ${key} VALUE, or azcmagent config clear ${key}`
        : `edit ${home.localConfig} (keys are case-insensitive: keep one spelling of each); the previous version is kept as .bak`;
      throw new AgentError('CONFIG_INVALID', err.detail, { cause: err, action });
    }
    throw err;
  }
}

async function list(opts: SetOptions): Promise<void> {
  const config = await readConfig(resolveHome(opts.home, process.env));
  if (opts.json) {
    printJson(Object.fromEntries(CONFIG_KEYS.map((k) => [k, jsonSetting(k, config[k])])));
    return;
  }
  const fields = CONFIG_KEYS.map((k) => ({
    name: listLabel(k),
    value: formatSetting(k, config[k]),
    indent: 2,
  }));
  process.stdout.write(`Local Configuration Settings\n${alignedLines(fields)}\n`);
}

async function get(opts: SetOptions, given: string): Promise<void> {
  const key = requireKey(given);
  const config = await readConfig(resolveHome(opts.home, process.env));
  if (opts.json) printJson({ [key]: jsonSetting(key, config[key]) });
  else process.stdout.write(`${formatSetting(key, config[key])}\n`);
}

async function set(opts: SetOptions, log: Logger, given: string, text: string): Promise<void> {
  const key = requireKey(given);
  if (opts.add && opts.remove)
    throw new AgentError('ARGUMENT_INVALID', '--add and --remove cannot be used together', {
      action: `run one command per change, e.g. azcmagent config set ${key} VALUE --add`,
    });
  const op = opts.add ? 'add' : opts.remove ? 'remove' : undefined;
  if (op && !isListKey(key))
    throw new AgentError(
      'ARGUMENT_INVALID',
      `--${op} works on list settings only, and ${key} is not a list`,
      {
        action: `set the whole value: azcmagent config set ${key} VALUE`,
      },
    );
  const parsed = parseSetting(key, text);
  if (op && (parsed as unknown[]).length === 0)
    throw new AgentError('ARGUMENT_INVALID', `nothing to ${op}: the value names no item`, {
      action: `name the items, comma-separated: azcmagent config set ${key} ITEM[,ITEM] --${op}`,
    });
  const home = resolveHome(opts.home, process.env);
  let ignored: unknown[] = [];
  const result = await change(home, key, (current) => {
    if (!op) return parsed;
    const edit = editList(currentList(home, key, current), parsed as unknown[], op);
    ignored = edit.ignored;
    return edit.value;
  });
  for (const item of ignored)
    process.stderr.write(
      `azcmagent: ${String(item)} ${op === 'add' ? 'is already in' : 'is not in'} ${key}; left as it was\n`,
    );
  log.info({ key, value: jsonSetting(key, result[key]), op: op ?? 'replace' }, `config set ${key}`);
  await report(opts, home, key, result[key], `set to value ${quoteSetting(key, result[key])}`);
}

async function clear(opts: SetOptions, log: Logger, given: string): Promise<void> {
  const key = requireKey(given);
  const home = resolveHome(opts.home, process.env);
  const result = await change(home, key, () => defaultValue(key));
  log.info({ key, value: jsonSetting(key, result[key]) }, `config clear ${key}`);
  await report(
    opts,
    home,
    key,
    result[key],
    `cleared; its value is the default, ${quoteSetting(key, result[key])}`,
  );
}

/** The list a key holds in the file, or its default; a value that is not a list is reported, not guessed at. */
function currentList(home: HomeLayout, key: ConfigKey, current: Record<string, unknown>): unknown[] {
  const value = key in current ? current[key] : defaultValue(key);
  if (Array.isArray(value)) return value as unknown[];
  throw new AgentError(
    'CONFIG_INVALID',
    `${home.localConfig}: ${key} holds ${JSON.stringify(value)}, not a list`,
    {
      action: `replace the whole list: azcmagent config set ${key} ITEM[,ITEM]`,
    },
  );
}

/** One read-modify-write of one key, under the lock; refused while config.mode monitor locks the key. */
async function change(
  home: HomeLayout,
  key: ConfigKey,
  next: (current: Record<string, unknown>) => unknown,
): Promise<LocalConfig> {
  try {
    await mkdir(home.root, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new AgentError('CONFIG_WRITE_FAILED', `${home.root}: ${(err as Error).message}`, {
      cause: err,
      action: 'run as root, or choose a home folder you can write with --home',
    });
  }
  return updateLocalConfig(
    home.localConfig,
    (current) => {
      const mode = current['config.mode'];
      if (
        typeof mode === 'string' &&
        mode.toLowerCase() === 'monitor' &&
        LOCKED_IN_MONITOR_MODE.includes(key)
      )
        throw new AgentError(
          'CONFIG_CONFLICT',
          `config.mode is monitor, which locks ${LOCKED_IN_MONITOR_MODE.join(' and ')} to a Microsoft-managed list`,
        );
      return { ...current, [key]: next(current) };
    },
    {
      onStale: (s) =>
        process.stderr.write(`azcmagent: removed a stale configuration lock ${s.path}: ${s.reason}\n`),
    },
  );
}

/** Prints what changed, then which running service took it (the file watch applies it; no restart). */
async function report(
  opts: SetOptions,
  home: HomeLayout,
  key: ConfigKey,
  value: unknown,
  what: string,
): Promise<void> {
  const statuses = await askServices(home, servicesFor(key));
  if (opts.json) {
    const services: Record<string, ServiceState> = {};
    for (const s of statuses) services[s.name] = s.state;
    printJson({ key, value: jsonSetting(key, value), services });
  } else {
    process.stdout.write(`Config property ${key} ${what}\n`);
  }
  for (const s of statuses) {
    if (s.state === 'unknown')
      process.stderr.write(
        `azcmagent: could not ask ${s.title} whether it is running (${s.reason}); if it runs, it applies the change within a second\n`,
      );
    else if (opts.json) continue;
    else if (s.state === 'running') process.stdout.write(`INFO Updating service configuration: ${s.title}\n`);
    else process.stdout.write(`INFO ${s.title} is not running; the new value applies when it starts\n`);
  }
}

function info(opts: SetOptions, given: string | undefined): void {
  const keys = given === undefined ? CONFIG_KEYS : [requireKey(given)];
  if (opts.json) {
    printJson(Object.fromEntries(keys.map((k) => [k, keyInfo(k)])));
    return;
  }
  const blocks = keys.map((k) => {
    const i = keyInfo(k);
    const fields = [
      { name: 'type', value: i.type },
      { name: 'default', value: quoteSetting(k, i.default) },
      { name: 'allowed', value: i.allowed },
    ];
    return `${listLabel(k)}\n  ${i.description}\n${alignedLines(fields.map((f) => ({ ...f, indent: 2 })))}`;
  });
  process.stdout.write(`${blocks.join('\n\n')}\n`);
}
