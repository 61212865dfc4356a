// The `--config FILE` of every command: readFlagsFile parses JSON or YAML into a mapping, refusing
// anything else with CONFIG_FILE_INVALID (exit 19) and without quoting the file, and flagsFromFile
// matches its keys to a command's flags.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentError, flagsFromFile, readFlagsFile, type FlagSpec } from '../../core/index.ts';
import { tempDir } from '../helpers/world.ts';

const SECRET = 'sp-secret-Planted-9931';

function file(name: string, text: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, text);
  return path;
}

async function refusal(path: string): Promise<AgentError> {
  const err = await readFlagsFile(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentError);
  expect((err as AgentError).code).toBe('CONFIG_FILE_INVALID');
  expect((err as AgentError).exitCode).toBe(19);
  return err as AgentError;
}

const FLAGS: FlagSpec[] = [
  { name: 'home', attribute: 'home', takesValue: true, negate: false },
  { name: 'json', attribute: 'json', takesValue: false, negate: false },
  { name: 'proxy-port', attribute: 'proxyPort', takesValue: true, negate: false },
  { name: 'no-color', attribute: 'color', takesValue: false, negate: true },
];

describe('readFlagsFile', () => {
  it('reads JSON', async () => {
    expect(await readFlagsFile(file('f.json', '{"home": "/x", "json": true}'))).toEqual({
      home: '/x',
      json: true,
    });
  });

  it.each(['f.yaml', 'f.yml', 'f.conf'])('reads YAML from %s', async (name) => {
    const text = '# flags\nhome: /x\njson: true\nproxy-port: 0\nservice-principal-secret: "a: b"\n';
    expect(await readFlagsFile(file(name, text))).toEqual({
      home: '/x',
      json: true,
      'proxy-port': 0,
      'service-principal-secret': 'a: b',
    });
  });

  it('refuses a missing file and names it', async () => {
    const err = await refusal('/nonexistent/flags.json');
    expect(err.message).toContain('/nonexistent/flags.json: no such file');
  });

  it('refuses malformed JSON with its position, without quoting the secret in it', async () => {
    const err = await refusal(file('f.json', `{"service-principal-secret": "${SECRET}",}`));
    expect(err.message).toMatch(/not valid JSON \(line 1, column \d+\)/);
    expect(err.message).not.toContain(SECRET);
    expect(err.cause).toBeUndefined();
  });

  it('refuses malformed YAML with its position, without quoting the secret in it', async () => {
    const err = await refusal(file('f.yaml', `home: /x\nservice-principal-secret: ${SECRET}\n  bad: [\n`));
    expect(err.message).toMatch(/not valid YAML \(\w+ at line \d+, column \d+\)/);
    expect(err.message).not.toContain(SECRET);
  });

  it.each([
    ['a list', '["home"]'],
    ['a string', '"home"'],
    ['null', 'null'],
  ])('refuses %s, which is no mapping', async (_what, text) => {
    expect((await refusal(file('f.json', text))).message).toContain('mapping of long flag names');
  });
});

describe('flagsFromFile', () => {
  it('matches long names and attribute names, and negated flags both ways', () => {
    const { assign, ignored } = flagsFromFile(
      { home: '/x', proxyPort: 8080, 'no-color': true, JSON: false },
      FLAGS,
      'f',
    );
    expect(assign).toEqual([
      { attribute: 'home', value: '/x', key: 'home' },
      { attribute: 'proxyPort', value: '8080', key: 'proxyPort' },
      { attribute: 'color', value: false, key: 'no-color' },
      { attribute: 'json', value: false, key: 'JSON' },
    ]);
    expect(ignored).toEqual([]);
    expect(flagsFromFile({ color: false }, FLAGS, 'f').assign).toEqual([
      { attribute: 'color', value: false, key: 'color' },
    ]);
  });

  it('returns unknown keys as ignored, and skips config, help and version silently', () => {
    const { assign, ignored } = flagsFromFile(
      { frobnicate: 1, config: 'x', help: true, version: true },
      FLAGS,
      'f',
    );
    expect(assign).toEqual([]);
    expect(ignored).toEqual(['frobnicate']);
  });

  it.each([
    ['a boolean flag given a string', { json: 'yes' }, 'json takes true or false'],
    ['a value flag given a boolean', { home: true }, 'home takes a string or a number'],
    ['a value flag given a list', { 'proxy-port': [1] }, 'proxy-port takes a string or a number'],
  ])('refuses %s', (_what, values, message) => {
    expect(() => flagsFromFile(values, FLAGS, 'f.yaml')).toThrow(message);
  });
});
