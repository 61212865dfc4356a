// The flags every command takes, as the real agent's do: --config FILE (JSON or YAML; the command
// line wins), -v/--verbose, --log-stderr, --no-color, -j. Results go to stdout, diagnostics to stderr.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { azcmagent, startDaemon } from '../helpers/cli.ts';
import { tempDir } from '../helpers/world.ts';

function flagsFile(name: string, text: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, text);
  return path;
}

const keyIn = (home: string) => existsSync(join(home, 'certs', 'onboarding.key'));

describe('--config FILE', () => {
  it('sets global flags from a JSON file', async () => {
    const home = tempDir();
    const r = await azcmagent([
      'genkey',
      '--config',
      flagsFile('f.json', JSON.stringify({ home, json: true })),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ privateKeyFile: join(home, 'certs', 'onboarding.key') });
    expect(keyIn(home)).toBe(true);
  });

  it('lets the command line win over the file', async () => {
    const [fromFile, fromFlag] = [tempDir(), tempDir()];
    const config = flagsFile('f.json', JSON.stringify({ home: fromFile, json: true }));
    const r = await azcmagent(['genkey', '--home', fromFlag, '--config', config]);
    expect(r.code, r.stderr).toBe(0);
    expect(keyIn(fromFlag)).toBe(true);
    expect(keyIn(fromFile)).toBe(false);
    expect(JSON.parse(r.stdout)).toHaveProperty('publicKey'); // json still came from the file
  });

  it("sets a command's own flags from a YAML file", async () => {
    const home = tempDir();
    const config = flagsFile(
      'run.yaml',
      `# azcmagent run\nservices: arcproxy\nproxy-port: 0\nhome: ${home}\nlog-max-files: 2\n`,
    );
    const d = await startDaemon(['--config', config]);
    expect(d.port).toBeGreaterThan(0);
    expect(d.stdout()).toContain(`home ${home}`);
    expect(await d.stop()).toBe(0);
    expect(readFileSync(join(home, 'log', 'arcproxy.log'), 'utf8')).toContain('arcproxy ready');
  });

  it('ignores a key that is no flag of the command, with a note on stderr', async () => {
    const r = await azcmagent([
      'version',
      '--config',
      flagsFile('f.json', '{"frobnicate": 1, "json": true}'),
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveProperty('version');
    expect(r.stderr).toContain('--config: ignoring "frobnicate", not a flag of azcmagent version');
  });

  it('refuses a malformed file with exit 19 and CONFIG_FILE_INVALID, without echoing it', async () => {
    const secret = 'sp-secret-Planted-7310';
    const config = flagsFile('f.yaml', `service-principal-secret: ${secret}\n  bad: [\n`);
    const r = await azcmagent(['version', '--config', config]);
    expect(r.code).toBe(19);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^Error CONFIG_FILE_INVALID: the --config file cannot be used: .*f\.yaml: not valid YAML/,
    );
    expect(r.stderr).toContain('To fix:');
    expect(r.stderr).not.toContain(secret);
  });

  it('refuses a missing file with exit 19, as JSON with -j', async () => {
    const r = await azcmagent(['version', '-j', '--config', '/nonexistent/flags.json']);
    expect(r.code).toBe(19);
    expect(JSON.parse(r.stdout)).toMatchObject({
      error: {
        code: 'CONFIG_FILE_INVALID',
        message: expect.stringContaining('/nonexistent/flags.json') as string,
      },
    });
  });

  it('refuses a value of the wrong type with exit 19, naming the key', async () => {
    const r = await azcmagent(['version', '--config', flagsFile('f.json', '{"json": "yes"}')]);
    expect(r.code).toBe(19);
    expect(r.stderr).toContain('json takes true or false');
  });
});

describe('-v, --log-stderr, --no-color', () => {
  it('are accepted before or after any command', async () => {
    for (const args of [
      ['-v', '--no-color', '--log-stderr', 'version'],
      ['version', '-v', '--no-color', '--log-stderr'],
    ]) {
      const r = await azcmagent(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^azcmagent version \d+\.\d+\.\d+\n$/);
    }
  });

  it('-v adds diagnostics on stderr and leaves stdout to the result', async () => {
    const home = tempDir();
    mkdirSync(join(home, 'log'));
    writeFileSync(join(home, 'log', 'himds.log'), 'a line\n');
    const zip = join(tempDir(), 'b.zip');
    const quiet = await azcmagent(['logs', '--home', home, '-o', zip]);
    expect(quiet.stdout).toBe(`${zip}\n`);
    expect(quiet.stderr).not.toContain('logs: collected');
    const verbose = await azcmagent(['logs', '--home', home, '-o', zip, '-v']);
    expect(verbose.stdout).toBe(`${zip}\n`);
    expect(verbose.stderr).toMatch(/"level":20,.*"file":"himds.log".*"msg":"logs: collected"/);
  });

  it("keeps the CLI's own log in <home>/log/azcmagent.log, with no key in it", async () => {
    const home = tempDir();
    mkdirSync(join(home, 'log'));
    expect((await azcmagent(['genkey', '--home', home])).code).toBe(0);
    const text = readFileSync(join(home, 'log', 'azcmagent.log'), 'utf8');
    expect(text).toContain('"msg":"genkey: new RSA 2048 key pair"');
    expect(text).not.toContain('PRIVATE KEY');
  });

  it("--log-stderr sends the services' log to stderr instead of <home>/log", async () => {
    const home = tempDir();
    const d = await startDaemon([
      '--services',
      'arcproxy',
      '--home',
      home,
      '--proxy-port',
      '0',
      '--log-stderr',
    ]);
    expect(d.stdout()).toContain('log stderr');
    expect(await d.stop()).toBe(0);
    expect(d.stderr()).toContain('"msg":"arcproxy ready"');
    expect(existsSync(join(home, 'log', 'arcproxy.log'))).toBe(false);
  });
});
