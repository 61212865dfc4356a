// Reading localconfig.json: defaults for what is missing, the real agent's case-insensitive keys,
// keys we don't know kept as they are, and a CONFIG_UNREADABLE that names the file when it is broken.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentError, defaultConfig, readLocalConfig, writeLocalConfig } from '../../core/index.ts';
import { tempDir } from '../helpers/world.ts';

const configFile = (content?: string): string => {
  const path = join(tempDir(), 'localconfig.json');
  if (content !== undefined) writeFileSync(path, content);
  return path;
};

async function readError(path: string): Promise<AgentError> {
  const err: unknown = await readLocalConfig(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentError);
  return err as AgentError;
}

describe('readLocalConfig', () => {
  it('gives the documented defaults when localconfig.json does not exist, and creates nothing', async () => {
    const path = configFile();
    const config = await readLocalConfig(path);
    expect(config).toEqual(defaultConfig());
    expect(config).toMatchObject({
      'proxy.url': '',
      'proxy.bypass': [],
      'connection.type': 'default',
      'incomingconnections.enabled': true,
      'incomingconnections.ports': [],
      'extensions.enabled': true,
      'extensions.allowlist': [],
      'extensions.blocklist': [],
      'guestconfiguration.enabled': true,
      'config.mode': 'full',
      'guestconfiguration.agent.cpulimit': 5,
      'extensions.agent.cpulimit': 5,
      'arcproxy.allowlist.mode': 'audit',
      'arcproxy.allowlist': [],
      'gateway.bypass': [],
    });
    expect(existsSync(path)).toBe(false);
  });

  it('fills in defaults around the keys a file does set', async () => {
    const path = configFile(JSON.stringify({ 'proxy.url': 'http://proxy.contoso.com:8080' }));
    const config = await readLocalConfig(path);
    expect(config['proxy.url']).toBe('http://proxy.contoso.com:8080');
    expect(config['arcproxy.allowlist.mode']).toBe('audit');
    expect(config['extensions.agent.cpulimit']).toBe(5);
  });

  it('reads keys whatever their case, under their canonical spelling', async () => {
    const path = configFile(
      JSON.stringify({
        'Proxy.URL': 'http://proxy.contoso.com:8080',
        'PROXY.BYPASS': ['ARM', 'Arc'],
        'ArcProxy.AllowList.Mode': 'enforce',
        'Extensions.Agent.CpuLimit': 30,
      }),
    );
    const config: Record<string, unknown> = await readLocalConfig(path);
    expect(config['proxy.url']).toBe('http://proxy.contoso.com:8080');
    expect(config['proxy.bypass']).toEqual(['ARM', 'Arc']);
    expect(config['arcproxy.allowlist.mode']).toBe('enforce');
    expect(config['extensions.agent.cpulimit']).toBe(30);
    expect(Object.keys(config)).not.toContain('Proxy.URL');
    expect(Object.keys(config)).not.toContain('PROXY.BYPASS');
  });

  it('validates a key spelt in another case just as strictly', async () => {
    const err = await readError(configFile(JSON.stringify({ 'Proxy.URL': 'ftp://x' })));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('proxy.url');
  });

  it('keeps keys it does not know (patch.mode) through a write and a read', async () => {
    const path = configFile();
    const unknown = { 'patch.mode': 'AutomaticByPlatform', 'future.setting': { nested: [1, 'two'] } };
    await writeLocalConfig(path, { ...defaultConfig(), ...unknown, 'proxy.url': 'http://p:3128' });
    const config: Record<string, unknown> = await readLocalConfig(path);
    expect(config).toMatchObject({ ...unknown, 'proxy.url': 'http://p:3128' });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject(unknown);
  });

  it.each([
    ['malformed JSON', '{"proxy.url": "http://p:1",'],
    ['an empty file', ''],
    ['a JSON array', '["proxy.url"]'],
    ['JSON null', 'null'],
  ])('refuses %s with CONFIG_UNREADABLE naming the file', async (_what, content) => {
    const path = configFile(content);
    const err = await readError(path);
    expect(err.code).toBe('CONFIG_UNREADABLE');
    expect(err.exitCode).toBe(70);
    expect(err.message).toContain(path);
  });

  it('refuses a path it cannot read as a file with CONFIG_UNREADABLE naming it', async () => {
    const path = configFile();
    mkdirSync(path);
    const err = await readError(path);
    expect(err.code).toBe('CONFIG_UNREADABLE');
    expect(err.message).toContain(path);
  });
});
