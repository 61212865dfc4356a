// azcmagent: one file per command; this one only assembles them.
import { Command, type Option } from 'commander';
import { VERSION, flagsFromFile, readFlagsFile, type FlagSpec } from '../core/index.ts';
import { registerCheck } from './check/index.ts';
import { registerConfig } from './config.ts';
import { registerConnect } from './connect.ts';
import { registerDisconnect } from './disconnect.ts';
import { registerGenkey } from './genkey.ts';
import { registerLicense } from './license.ts';
import { registerLogs } from './logs.ts';
import { fail } from './output.ts';
import { registerProxy } from './proxy.ts';
import { registerRun } from './run.ts';
import { registerShow } from './show.ts';
import { registerVersion } from './version.ts';

const program = new Command('azcmagent')
  .description('Azure Connected Machine agent (open implementation)')
  .version(VERSION, '--version')
  .option('--home <dir>', 'agent home folder (default: $AZCMAGENT_HOME or /var/opt/azcmagent)')
  .option('-j, --json', 'print results as JSON')
  // The real agent's common flags (reference section 1.1). Diagnostics always go to stderr here.
  .option('-v, --verbose', 'more detailed diagnostics on stderr (run: log level debug)')
  .option('--log-stderr', 'run: services log to stderr instead of <home>/log/')
  .option('--no-color', 'no ANSI colour (azcmagent prints none; kept for scripts written for the real agent)')
  .option('--config <file>', 'JSON or YAML file of long flag names and values; the command line wins')
  .hook('preAction', applyConfigFile);
registerRun(program);
registerProxy(program);
registerConfig(program);
registerShow(program);
registerCheck(program);
registerConnect(program);
registerDisconnect(program);
registerLogs(program);
registerGenkey(program);
registerVersion(program);
registerLicense(program);
await program.parseAsync(process.argv);

/**
 * `--config FILE`: each flag the file names is set on the command (or the program, for global
 * flags) unless the command line gave it. A key no level knows is ignored with a note on stderr.
 */
async function applyConfigFile(_program: Command, action: Command): Promise<void> {
  const { config, json } = action.optsWithGlobals<{ config?: string; json?: boolean }>();
  if (!config) return;
  try {
    const values = await readFlagsFile(config);
    let unknown: string[] | undefined;
    for (let cmd: Command | null = action; cmd; cmd = cmd.parent) {
      const { assign, ignored } = flagsFromFile(values, cmd.options.map(flagSpec), config);
      for (const { attribute, value } of assign)
        if (cmd.getOptionValueSource(attribute) !== 'cli')
          cmd.setOptionValueWithSource(attribute, value, 'config');
      unknown = unknown ? unknown.filter((k) => ignored.includes(k)) : ignored;
    }
    for (const key of unknown ?? [])
      process.stderr.write(
        `azcmagent: --config: ignoring "${key}", not a flag of azcmagent ${action.name()}\n`,
      );
  } catch (err) {
    fail(err, json);
  }
}

function flagSpec(option: Option): FlagSpec {
  return {
    name: (option.long ?? '').replace(/^--/, ''),
    attribute: option.attributeName(),
    takesValue: option.required || option.optional,
    negate: option.negate,
  };
}
