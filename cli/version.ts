// `azcmagent version`: the agent's version, as the real agent prints it ("azcmagent version X").
import type { Command } from 'commander';
import { VERSION } from '../core/index.ts';
import { printJson, type GlobalOptions } from './output.ts';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description("print the agent's version")
    .action((_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      if (opts.json) printJson({ version: VERSION, node: process.versions.node });
      else process.stdout.write(`azcmagent version ${VERSION}\n`);
    });
}
