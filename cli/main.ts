// azcmagent: one file per command; this one only assembles them.
import { Command } from 'commander';
import { registerProxy } from './proxy.ts';
import { registerRun } from './run.ts';

export const VERSION = '0.1.0';

const program = new Command('azcmagent')
  .description('Azure Connected Machine agent (open implementation)')
  .version(VERSION, '--version')
  .option('--home <dir>', 'agent home folder (default: $AZCMAGENT_HOME or /var/opt/azcmagent)')
  .option('-j, --json', 'print results as JSON');
registerRun(program);
registerProxy(program);
await program.parseAsync(process.argv);
