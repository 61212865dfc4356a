// `azcmagent license`: the project's license text (LICENSE at the package root, shipped beside dist/).
// The real agent prints its EULA here; this agent is MIT-licensed open source.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { AgentError } from '../core/index.ts';
import { fail, printJson, type GlobalOptions } from './output.ts';

/** Both cli/license.ts (run from source) and dist/azcmagent.js (the bundle) sit one folder below the root. */
const LICENSE_FILE = new URL('../LICENSE', import.meta.url);

export function registerLicense(program: Command): void {
  program
    .command('license')
    .description("print the agent's license")
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      try {
        const text = await readFile(LICENSE_FILE, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new AgentError('INTERNAL', `${LICENSE_FILE.pathname} cannot be read (${err.code})`, {
            action: 'reinstall the agent: its package always carries LICENSE',
          });
        });
        if (opts.json) printJson({ license: 'MIT', text });
        else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      } catch (err) {
        fail(err, opts.json);
      }
    });
}
