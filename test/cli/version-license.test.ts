// The small commands, run as users run them: `version`, `license`, and commander's `help`.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { azcmagent } from '../helpers/cli.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const LICENSE = readFileSync(new URL('../../LICENSE', import.meta.url), 'utf8');

describe('azcmagent version', () => {
  it("prints the package's version on stdout, as text and as JSON", async () => {
    const text = await azcmagent(['version']);
    expect(text).toMatchObject({ code: 0, stdout: `azcmagent version ${pkg.version}\n`, stderr: '' });
    const json = await azcmagent(['version', '-j']);
    expect(JSON.parse(json.stdout)).toEqual({ version: pkg.version, node: process.versions.node });
    expect((await azcmagent(['--version'])).stdout.trim()).toBe(pkg.version);
  });
});

describe('azcmagent license', () => {
  it('prints the LICENSE file: MIT, the azcmagent-open authors', async () => {
    expect(LICENSE).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} the azcmagent-open authors\n/);
    const r = await azcmagent(['license']);
    expect(r).toMatchObject({ code: 0, stdout: LICENSE, stderr: '' });
    expect(JSON.parse((await azcmagent(['license', '--json'])).stdout)).toEqual({
      license: 'MIT',
      text: LICENSE,
    });
  });
});

describe('azcmagent help', () => {
  it('lists every command and the common flags', async () => {
    const r = await azcmagent(['help']);
    expect(r.code).toBe(0);
    for (const command of ['run', 'proxy', 'logs', 'genkey', 'version', 'license', 'help'])
      expect(r.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    for (const flag of [
      '--home',
      '-j, --json',
      '-v, --verbose',
      '--no-color',
      '--log-stderr',
      '--config <file>',
    ])
      expect(r.stdout).toContain(flag);
  });

  it('`help COMMAND` shows what `COMMAND --help` shows', async () => {
    for (const command of ['logs', 'genkey', 'run']) {
      const viaHelp = await azcmagent(['help', command]);
      expect(viaHelp.code).toBe(0);
      expect(viaHelp.stdout).toContain(`Usage: azcmagent ${command}`);
      expect(viaHelp.stdout).toBe((await azcmagent([command, '--help'])).stdout);
    }
    const logs = await azcmagent(['help', 'logs']);
    expect(logs.stdout).toContain('-o, --output <file>');
    expect(logs.stdout).toContain('-f, --full');
  });
});
