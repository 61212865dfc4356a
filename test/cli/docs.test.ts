// docs/cli.md stays true: a section for every command the CLI has, the exit-code table equal to
// the error registry, every configuration key, and the JSON keys `show -j` really prints.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, errorRegistry } from '../../core/index.ts';
import { azcmagent } from '../helpers/cli.ts';
import { tempDir } from '../helpers/world.ts';

const doc = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');

/** The command names of a `--help` page ("Commands:" section), without `help`. */
async function commandsOf(...args: string[]): Promise<string[]> {
  const { stdout } = await azcmagent([...args, '--help']);
  const section = stdout.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
}

describe('docs/cli.md', () => {
  it('has a section for every command and config subcommand the CLI registers', async () => {
    const top = await commandsOf();
    expect(top).toEqual(expect.arrayContaining(['run', 'proxy', 'config', 'show']));
    for (const command of top) {
      if (command === 'proxy') {
        for (const sub of await commandsOf('proxy'))
          expect(doc, `proxy ${sub}`).toMatch(new RegExp(`^## \`azcmagent proxy ${sub}\``, 'm'));
      } else expect(doc, command).toMatch(new RegExp(`^## \`azcmagent ${command}\``, 'm'));
    }
    for (const sub of await commandsOf('config'))
      expect(doc, `config ${sub}`).toMatch(new RegExp(`^### \`config ${sub}`, 'm'));
  });

  it('has an exit-code table equal to the error registry', () => {
    const documented = new Map(
      [...doc.matchAll(/^\| (\d+) +\| `([A-Z0-9_]+)` +\|/gm)].map(([, exit, code]) => [code!, Number(exit)]),
    );
    // The rows to paste into the table (then `npx prettier --write docs/cli.md`), and the rows to drop.
    const missing = Object.entries(errorRegistry)
      .filter(([code, spec]) => documented.get(code) !== spec.exit)
      .map(
        ([code, spec]) =>
          `| ${spec.exit} | \`${code}\` | ${spec.message} | ${spec.action.replace(/\|/g, '\\|')} |`,
      );
    const stale = [...documented.keys()].filter((code) => !(code in errorRegistry));
    expect(missing, `docs/cli.md "Exit codes" lacks or misstates:\n${missing.join('\n')}`).toEqual([]);
    expect(stale, 'docs/cli.md "Exit codes" names codes the registry no longer has').toEqual([]);
  });

  it('lists every configuration key, and no other', () => {
    const section = doc.split('### Settings')[1]!.split('###')[0]!;
    const keys = [...section.matchAll(/^\| `([a-z.]+)` +\|/gm)].map((m) => m[1]);
    expect(keys).toEqual(CONFIG_KEYS);
  });

  it('documents exactly the JSON keys that show -j prints', async () => {
    const printed = Object.keys(
      JSON.parse((await azcmagent(['show', '-j', '--home', tempDir()])).stdout) as object,
    );
    const section = doc.split('## `azcmagent show`')[1]!.split('\n## ')[0]!;
    const documented = [...section.matchAll(/^\| `[^`]+` +\| `([a-zA-Z]+)` +\|/gm)].map((m) => m[1]);
    expect(documented).toEqual(printed);
  });
});
