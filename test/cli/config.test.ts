// `azcmagent config list | get | set | clear | info`, run as users run it (the built CLI in a child
// process) against a temporary home: what it prints, what it refuses and with which exit code,
// what ends up in localconfig.json, and that a proxy password is never printed.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../../core/index.ts';
import { azcmagent, startDaemon } from '../helpers/cli.ts';
import { eventually, tempDir } from '../helpers/world.ts';

const run = (home: string, ...args: string[]) => azcmagent([...args, '--home', home]);
const onDisk = (home: string) =>
  JSON.parse(readFileSync(join(home, 'localconfig.json'), 'utf8')) as Record<string, unknown>;

/** The real agent's order (reference section 4.1), then our keys. */
const LIST_ORDER = [
  'incomingconnections.enabled (preview)',
  'incomingconnections.ports (preview)',
  'connection.type',
  'proxy.url',
  'proxy.bypass',
  'extensions.allowlist',
  'extensions.blocklist',
  'guestconfiguration.enabled',
  'extensions.enabled',
  'config.mode',
  'guestconfiguration.agent.cpulimit',
  'extensions.agent.cpulimit',
  'arcproxy.allowlist.mode',
  'arcproxy.allowlist',
  'gateway.bypass',
];

describe('azcmagent config list', () => {
  it('prints the heading and one aligned line per key with its default, and creates nothing', async () => {
    const home = tempDir();
    const r = await run(home, 'config', 'list');
    expect(r.code, r.stderr).toBe(0);
    const [heading, ...lines] = r.stdout.trimEnd().split('\n');
    expect(heading).toBe('Local Configuration Settings');
    expect(lines.map((l) => l.replace(/ +:( .*)?$/, '').trim())).toEqual(LIST_ORDER);
    expect(new Set(lines.map((l) => l.indexOf(' :'))).size).toBe(1);
    expect(lines.every((l) => l.startsWith('  '))).toBe(true);
    const value = (key: string) =>
      lines
        .find((l) => l.trim().startsWith(`${key} `))!
        .split(' :')[1]!
        .trim();
    expect(value('proxy.bypass')).toBe('[]');
    expect(value('connection.type')).toBe('default');
    expect(value('extensions.agent.cpulimit')).toBe('5');
    expect(value('incomingconnections.enabled')).toBe('true');
    expect(readdirSync(home)).toEqual([]);
  });

  it('prints lists as [a b] and gives a stable JSON object of every key with -j', async () => {
    const home = tempDir();
    expect((await run(home, 'config', 'set', 'proxy.bypass', 'ARM,Arc')).code).toBe(0);
    const text = await run(home, 'config', 'list');
    expect(text.stdout).toMatch(/^ {2}proxy\.bypass +: \[ARM Arc\]$/m);
    const json = await run(home, 'config', 'list', '-j');
    const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(CONFIG_KEYS);
    expect(parsed).toMatchObject({
      'proxy.bypass': ['ARM', 'Arc'],
      'proxy.url': '',
      'extensions.agent.cpulimit': 5,
      'extensions.enabled': true,
      'config.mode': 'full',
    });
  });
});

describe('azcmagent config set and get', () => {
  it.concurrent.for<[string, string, unknown, string]>([
    [
      'proxy.url',
      'http://proxy.contoso.com:8080',
      'http://proxy.contoso.com:8080',
      'http://proxy.contoso.com:8080',
    ],
    ['proxy.bypass', 'ARM, arc ,AMA', ['ARM', 'Arc', 'AMA'], '[ARM Arc AMA]'],
    ['connection.type', 'Gateway', 'gateway', 'gateway'],
    ['extensions.enabled', 'FALSE', false, 'false'],
    ['guestconfiguration.agent.cpulimit', '42', 42, '42'],
    ['incomingconnections.ports', '22,6516', [22, 6516], '[22 6516]'],
    ['extensions.allowlist', 'Allow/None', ['Allow/None'], '[Allow/None]'],
    [
      'arcproxy.allowlist',
      '*.contoso.com:8443,10.0.0.1',
      ['*.contoso.com:8443', '10.0.0.1'],
      '[*.contoso.com:8443 10.0.0.1]',
    ],
    ['arcproxy.allowlist.mode', 'enforce', 'enforce', 'enforce'],
  ])(
    'stores %s = %j as typed JSON and get prints it back',
    async ([key, text, stored, printed], { expect }) => {
      const home = tempDir();
      const set = await run(home, 'config', 'set', key, text);
      expect(set.code, set.stderr).toBe(0);
      expect(set.stdout).toContain(`Config property ${key} set to value ${printed}`);
      expect(onDisk(home)[key]).toEqual(stored);
      const get = await run(home, 'config', 'get', key);
      expect(get.stdout).toBe(`${printed}\n`);
      expect(JSON.parse((await run(home, 'config', 'get', key, '-j')).stdout)).toEqual({ [key]: stored });
    },
  );

  it('matches keys case-insensitively and stores them under their canonical spelling', async () => {
    const home = tempDir();
    expect((await run(home, 'config', 'set', 'Proxy.URL', 'http://p:3128')).code).toBe(0);
    expect((await run(home, 'config', 'get', 'PROXY.url')).stdout).toBe('http://p:3128\n');
    expect(Object.keys(onDisk(home))).toContain('proxy.url');
    expect(Object.keys(onDisk(home))).not.toContain('Proxy.URL');
  });

  it('keeps the previous file as .bak and keys it does not know', async () => {
    const home = tempDir();
    writeFileSync(join(home, 'localconfig.json'), JSON.stringify({ 'patch.mode': 'AutomaticByPlatform' }));
    expect((await run(home, 'config', 'set', 'extensions.enabled', 'false')).code).toBe(0);
    expect(onDisk(home)['patch.mode']).toBe('AutomaticByPlatform');
    expect(JSON.parse(readFileSync(join(home, 'localconfig.json.bak'), 'utf8'))).toEqual({
      'patch.mode': 'AutomaticByPlatform',
    });
    expect(readdirSync(home).sort()).toEqual(['localconfig.json', 'localconfig.json.bak']);
  });

  const CPU = 'an integer from 1 to 100';
  it.concurrent.for<[string, string, string[]]>([
    ['extensions.agent.cpulimit', '0', [CPU]],
    ['extensions.agent.cpulimit', '101', [CPU]],
    ['extensions.agent.cpulimit', '5.5', [CPU]],
    ['extensions.agent.cpulimit', '05', [CPU]],
    ['guestconfiguration.agent.cpulimit', '1e2', [CPU]],
    ['guestconfiguration.agent.cpulimit', ' ', [CPU]],
    ['proxy.url', 'ftp://proxy.contoso.com', ['http://', 'https://']],
    ['proxy.url', 'http://proxy.contoso.com/a/path', ['http://', 'https://']],
    ['proxy.url', 'proxy.contoso.com:8080', ['http://', 'https://']],
    ['proxy.bypass', 'ARM,https://management.azure.com', ['AAD', 'ARM', 'Arc', 'AMA', 'ArcData']],
    ['connection.type', 'carrier-pigeon', ['default', 'direct', 'gateway']],
    ['config.mode', 'partial', ['full', 'monitor']],
    ['extensions.enabled', 'yes', ['true or false']],
    ['incomingconnections.enabled', '1', ['true or false']],
    ['incomingconnections.ports', '22,65536', ['1 to 65535']],
    ['extensions.allowlist', 'JustAName', ['Publisher/Type', 'Allow/None']],
    ['extensions.blocklist', 'Allow/None', ['Publisher/Type']],
    ['arcproxy.allowlist', 'not a host!', ['host', 'host:port', '*.domain', '*.domain:port']],
    ['arcproxy.allowlist.mode', 'maybe', ['audit', 'enforce']],
    ['gateway.bypass', '*', ['host[:port]', '*.domain[:port]']],
  ])(
    'refuses %s %j with CONFIG_INVALID (23) naming the allowed values',
    async ([key, value, allowed], { expect }) => {
      const home = tempDir();
      const r = await run(home, 'config', 'set', key, value);
      expect(r.code).toBe(23);
      expect(r.stderr).toContain('Error CONFIG_INVALID');
      expect(r.stderr).toContain(key);
      for (const words of allowed) expect(r.stderr).toContain(words);
      expect(r.stderr).toContain(`To fix: see what ${key} takes: azcmagent config info ${key}`);
      expect(r.stdout).toBe('');
      expect(existsSync(join(home, 'localconfig.json'))).toBe(false);
    },
  );

  it('refuses an unknown key with ARGUMENT_INVALID (23) listing the keys', async () => {
    const r = await run(tempDir(), 'config', 'set', 'proxy.uri', 'http://p:1');
    expect(r.code).toBe(23);
    expect(r.stderr).toContain('Error ARGUMENT_INVALID');
    expect(r.stderr).toContain('unknown configuration key "proxy.uri"');
    for (const key of CONFIG_KEYS) expect(r.stderr).toContain(key);
    expect(r.stderr).toContain('azcmagent config info');
  });

  it('ends usage errors with 23 and a pointer to the help', async () => {
    const home = tempDir();
    for (const args of [
      ['config', 'get'],
      ['config', 'set', 'proxy.url'],
      ['config', 'set', 'proxy.url', 'http://a:1', 'extra'],
      ['config', 'list', '--bogus'],
    ]) {
      const r = await run(home, ...args);
      expect(r.code, args.join(' ')).toBe(23);
      expect(r.stderr).toContain('--help');
    }
    expect((await run(home, 'config', 'set', '--help')).code).toBe(0);
  });
});

describe('a proxy password', () => {
  it('is stored for the services but never printed by set, get, list or their JSON', async () => {
    const home = tempDir();
    const url = 'http://alice:s3cret-pw@proxy.contoso.com:3128';
    const outputs = [
      await run(home, 'config', 'set', 'proxy.url', url),
      await run(home, 'config', 'set', 'proxy.url', url, '-j'),
      await run(home, 'config', 'get', 'proxy.url'),
      await run(home, 'config', 'get', 'proxy.url', '-j'),
      await run(home, 'config', 'list'),
      await run(home, 'config', 'list', '-j'),
      await run(home, 'config', 'set', 'proxy.url', 'ftp://alice:s3cret-pw@proxy.contoso.com'),
    ];
    expect(onDisk(home)['proxy.url']).toBe(url);
    for (const r of outputs) {
      expect(r.stdout + r.stderr).not.toContain('s3cret-pw');
      expect(r.stdout + r.stderr).not.toContain('alice');
    }
    expect(outputs[2]!.stdout).toBe('http://REDACTED@proxy.contoso.com:3128\n');
    expect(outputs[6]!.code).toBe(23);
  });
});

describe('the command log', () => {
  it('has a line for each change and each refusal in <home>/log/azcmagent.log, without the password', async () => {
    const home = tempDir();
    mkdirSync(join(home, 'log'));
    await run(home, 'config', 'set', 'proxy.url', 'http://alice:s3cret-pw@proxy.contoso.com:3128');
    await run(home, 'config', 'set', 'extensions.agent.cpulimit', '101');
    await run(home, 'config', 'clear', 'proxy.url');
    const log = readFileSync(join(home, 'log', 'azcmagent.log'), 'utf8');
    expect(log).toContain('config set proxy.url');
    expect(log).toContain('CONFIG_INVALID');
    expect(log).toContain('config clear proxy.url');
    expect(log).not.toContain('s3cret-pw');
  });
});

describe('azcmagent config set --add / --remove', () => {
  it('adds items that are missing and removes items that are there, case-insensitively', async () => {
    const home = tempDir();
    const key = 'extensions.allowlist';
    const ama = 'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent';
    expect((await run(home, 'config', 'set', key, ama, '--add')).code).toBe(0);
    const again = await run(
      home,
      'config',
      'set',
      key,
      `${ama.toLowerCase()},Microsoft.CPlat.Core/LinuxPatchExtension`,
      '-a',
    );
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`is already in ${key}`);
    expect(onDisk(home)[key]).toEqual([ama, 'Microsoft.CPlat.Core/LinuxPatchExtension']);

    const removed = await run(home, 'config', 'set', key, `${ama.toUpperCase()},No/Such`, '--remove');
    expect(removed.code).toBe(0);
    expect(removed.stderr).toContain(`No/Such is not in ${key}`);
    expect(removed.stdout).toContain(`set to value [Microsoft.CPlat.Core/LinuxPatchExtension]`);
    expect(onDisk(home)[key]).toEqual(['Microsoft.CPlat.Core/LinuxPatchExtension']);
  });

  it('replaces the whole list without a flag', async () => {
    const home = tempDir();
    await run(home, 'config', 'set', 'proxy.bypass', 'ARM,Arc');
    await run(home, 'config', 'set', 'proxy.bypass', 'AAD');
    expect(onDisk(home)['proxy.bypass']).toEqual(['AAD']);
    await run(home, 'config', 'set', 'proxy.bypass', '');
    expect(onDisk(home)['proxy.bypass']).toEqual([]);
  });

  it.each<[string, string[], string]>([
    ['both flags', ['proxy.bypass', 'ARM', '--add', '--remove'], 'cannot be used together'],
    ['--add on a scalar', ['proxy.url', 'http://p:1', '--add'], 'proxy.url is not a list'],
    ['--remove on a scalar', ['extensions.agent.cpulimit', '5', '-r'], 'list settings only'],
    ['--add of nothing', ['proxy.bypass', ' , ', '--add'], 'nothing to add'],
  ])('refuses %s with ARGUMENT_INVALID (23) and leaves the file alone', async (_what, args, words) => {
    const home = tempDir();
    await run(home, 'config', 'set', 'proxy.bypass', 'Arc');
    const before = readFileSync(join(home, 'localconfig.json'), 'utf8');
    const r = await run(home, 'config', 'set', ...args);
    expect(r.code).toBe(23);
    expect(r.stderr).toContain('Error ARGUMENT_INVALID');
    expect(r.stderr).toContain(words);
    expect(r.stderr).toContain('To fix:');
    expect(readFileSync(join(home, 'localconfig.json'), 'utf8')).toBe(before);
  });
});

describe('config.mode monitor', () => {
  it('refuses edits of the extension allow- and block-lists with CONFIG_CONFLICT (27), and keeps them', async () => {
    const home = tempDir();
    await run(
      home,
      'config',
      'set',
      'extensions.allowlist',
      'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent',
    );
    expect((await run(home, 'config', 'set', 'config.mode', 'monitor')).code).toBe(0);
    const before = readFileSync(join(home, 'localconfig.json'), 'utf8');
    for (const args of [
      ['set', 'extensions.allowlist', 'A/B', '--add'],
      ['set', 'Extensions.BlockList', 'A/B'],
      ['clear', 'extensions.allowlist'],
    ]) {
      const r = await run(home, 'config', ...args);
      expect(r.code, args.join(' ')).toBe(27);
      expect(r.stderr).toContain('Error CONFIG_CONFLICT');
      expect(r.stderr).toContain('config.mode is monitor');
      expect(r.stderr).toContain('To fix: switch config.mode back to full first');
      expect(r.stderr).toContain('azcmagent config set config.mode full');
    }
    expect(readFileSync(join(home, 'localconfig.json'), 'utf8')).toBe(before);
    expect((await run(home, 'config', 'set', 'extensions.enabled', 'false')).code).toBe(0);
    expect((await run(home, 'config', 'set', 'config.mode', 'full')).code).toBe(0);
    expect((await run(home, 'config', 'set', 'extensions.allowlist', 'A/B', '--add')).code).toBe(0);
    expect(onDisk(home)['extensions.allowlist']).toEqual([
      'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent',
      'A/B',
    ]);
  });
});

describe('azcmagent config clear', () => {
  it.each<[string, string, unknown, string]>([
    ['proxy.url', 'http://p:3128', '', '(empty)'],
    ['proxy.bypass', 'ARM', [], '[]'],
    ['extensions.agent.cpulimit', '50', 5, '5'],
    ['connection.type', 'gateway', 'default', 'default'],
    ['extensions.enabled', 'false', true, 'true'],
  ])('restores the default of %s', async (key, value, fallback, printed) => {
    const home = tempDir();
    await run(home, 'config', 'set', key, value);
    const r = await run(home, 'config', 'clear', key);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Config property ${key} cleared; its value is the default, ${printed}`);
    expect(onDisk(home)[key]).toEqual(fallback);
  });
});

describe('azcmagent config info', () => {
  it('describes every key: type, default and allowed values', async () => {
    const r = await run(tempDir(), 'config', 'info');
    expect(r.code).toBe(0);
    for (const key of CONFIG_KEYS)
      expect(r.stdout).toMatch(new RegExp(`^${key.replace(/\./g, '\\.')}( \\(preview\\))?$`, 'm'));
    expect(r.stdout.match(/^ {2}type +: /gm)).toHaveLength(CONFIG_KEYS.length);
    expect(r.stdout.match(/^ {2}default +: /gm)).toHaveLength(CONFIG_KEYS.length);
    expect(r.stdout.match(/^ {2}allowed +: /gm)).toHaveLength(CONFIG_KEYS.length);
  });

  it('gives one key, case-insensitively, and JSON with type, default, values and allowed', async () => {
    const home = tempDir();
    const text = await run(home, 'config', 'info', 'PROXY.BYPASS');
    expect(text.stdout).toMatch(/^proxy\.bypass$/m);
    expect(text.stdout).toMatch(/allowed +: a list of service names: AAD, ARM, Arc, AMA, ArcData/);
    const all = JSON.parse((await run(home, 'config', 'info', '-j')).stdout) as Record<
      string,
      Record<string, unknown>
    >;
    expect(Object.keys(all)).toEqual(CONFIG_KEYS);
    expect(all['connection.type']).toMatchObject({
      type: 'string',
      list: false,
      default: 'default',
      values: ['default', 'direct', 'gateway'],
    });
    expect(all['extensions.agent.cpulimit']).toMatchObject({
      type: 'integer',
      default: 5,
      allowed: 'an integer from 1 to 100',
    });
    expect(all['proxy.bypass']).toMatchObject({ type: 'list of strings', list: true, default: [] });
    expect(all['extensions.enabled']).toMatchObject({
      type: 'boolean',
      default: true,
      values: [true, false],
    });
    for (const entry of Object.values(all)) {
      expect(typeof entry['description']).toBe('string');
      expect(typeof entry['allowed']).toBe('string');
    }
    expect((await run(home, 'config', 'info', 'nope')).code).toBe(23);
  });
});

describe('a localconfig.json that is broken', () => {
  it('is reported with its path and the fix (70) by every subcommand, never replaced', async () => {
    const home = tempDir();
    const path = join(home, 'localconfig.json');
    writeFileSync(path, '{"proxy.url": "http://p:1",');
    for (const args of [
      ['list'],
      ['get', 'proxy.url'],
      ['set', 'proxy.url', 'http://q:2'],
      ['set', 'proxy.bypass', 'ARM', '--add'],
      ['clear', 'proxy.url'],
    ]) {
      const r = await run(home, 'config', ...args);
      expect(r.code, args.join(' ')).toBe(70);
      expect(r.stderr).toContain('Error CONFIG_UNREADABLE');
      expect(r.stderr).toContain(path);
      expect(r.stderr).toContain('To fix: fix or remove the file');
      expect(r.stdout).toBe('');
    }
    expect(readFileSync(path, 'utf8')).toBe('{"proxy.url": "http://p:1",');
    expect(readdirSync(home)).toEqual(['localconfig.json']);
  });

  it('with a wrong value names the key and the file, and set repairs it', async () => {
    const home = tempDir();
    const path = join(home, 'localconfig.json');
    writeFileSync(path, JSON.stringify({ 'connection.type': 'carrier-pigeon', 'proxy.url': 'http://p:1' }));
    const list = await run(home, 'config', 'list');
    expect(list.code).toBe(23);
    expect(list.stderr).toContain(path);
    expect(list.stderr).toContain('connection.type');
    expect(list.stderr).toContain('To fix: repair the value: azcmagent config set connection.type VALUE');
    const other = await run(home, 'config', 'set', 'proxy.bypass', 'ARM');
    expect(other.code).toBe(23);
    expect(other.stderr).toContain('connection.type');
    const repair = await run(home, 'config', 'clear', 'connection.type');
    expect(repair.code, repair.stderr).toBe(0);
    expect(onDisk(home)).toMatchObject({ 'connection.type': 'default', 'proxy.url': 'http://p:1' });
  });
});

describe('which service took the change', () => {
  it('says no service runs and the value applies at next start', async () => {
    const home = tempDir();
    const proxy = await run(home, 'config', 'set', 'proxy.bypass', 'ARM');
    expect(proxy.stdout).toContain(
      'INFO Azure Arc Proxy is not running; the new value applies when it starts',
    );
    expect(proxy.stdout).not.toContain('Updating service configuration');
    const ext = await run(home, 'config', 'set', 'extensions.enabled', 'false', '-j');
    expect(JSON.parse(ext.stdout)).toEqual({
      key: 'extensions.enabled',
      value: false,
      services: { extd: 'stopped' },
    });
  });

  it('tells the running Arc Proxy, which applies the change without a restart', async () => {
    const home = tempDir();
    const d = await startDaemon(['--services', 'arcproxy', '--home', home, '--proxy-port', '0']);
    try {
      const r = await run(home, 'config', 'set', 'proxy.bypass', 'AMA,ArcData');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(
        'Config property proxy.bypass set to value [AMA ArcData]\nINFO Updating service configuration: Azure Arc Proxy\n',
      );
      const log = join(home, 'log', 'arcproxy.log');
      await eventually(() => readFileSync(log, 'utf8').includes('"bypass":["AMA","ArcData"]'), 2_000);
      const json = await run(home, 'config', 'set', 'arcproxy.allowlist', 'example.com:443', '--add', '-j');
      expect(JSON.parse(json.stdout)).toEqual({
        key: 'arcproxy.allowlist',
        value: ['example.com:443'],
        services: { arcproxy: 'running' },
      });
    } finally {
      await d.stop();
    }
  });
});
