// What `azcmagent config set` may store: a wrong value is refused with CONFIG_INVALID, a message
// that names the key and what it allows, and the file on disk left as it was.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentError, readLocalConfig, writeLocalConfig } from '../../core/index.ts';
import { tempDir } from '../helpers/world.ts';

async function writeError(path: string, config: Record<string, unknown>): Promise<AgentError> {
  const err: unknown = await writeLocalConfig(path, config).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `${JSON.stringify(config)} should be refused`).toBeInstanceOf(AgentError);
  return err as AgentError;
}

const CPU = ['an integer from 1 to 100'];

describe('configuration values', () => {
  it.each<[string, unknown, string[]]>([
    ['proxy.url', 'ftp://x', ['http://', 'https://']],
    ['proxy.url', 'http://proxy.contoso.com/some/path', ['http://', 'https://']],
    ['proxy.bypass', ['Foo'], ['AAD', 'ARM', 'Arc', 'AMA', 'ArcData']],
    ['proxy.bypass', 'ARM', ['AAD', 'ARM', 'Arc', 'AMA', 'ArcData']],
    ['connection.type', 'carrier-pigeon', ['default', 'direct', 'gateway']],
    ['arcproxy.allowlist.mode', 'maybe', ['audit', 'enforce']],
    ['arcproxy.allowlist', ['not a host!'], ['host', 'host:port', '*.domain', '*.domain:port']],
    ['arcproxy.allowlist', ['https://example.com'], ['host', 'host:port', '*.domain']],
    ['gateway.bypass', ['*'], ['host[:port]', '*.domain[:port]']],
    ['extensions.agent.cpulimit', 0, CPU],
    ['extensions.agent.cpulimit', 101, CPU],
    ['extensions.agent.cpulimit', 5.5, CPU],
    ['extensions.agent.cpulimit', '5', CPU],
    ['guestconfiguration.agent.cpulimit', 0, CPU],
    ['guestconfiguration.agent.cpulimit', 101, CPU],
    ['guestconfiguration.agent.cpulimit', 5.5, CPU],
    ['incomingconnections.ports', [0], ['1 to 65535']],
    ['incomingconnections.ports', [65536], ['1 to 65535']],
    ['incomingconnections.enabled', 'yes', ['true or false']],
    ['config.mode', 'partial', ['full', 'monitor']],
    ['extensions.allowlist', ['JustAName'], ['Publisher/Type']],
  ])('refuses %s = %j, naming the key and what it allows', async (key, value, allowed) => {
    const path = join(tempDir(), 'localconfig.json');
    const err = await writeError(path, { [key]: value });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.exitCode).toBe(23);
    expect(err.message).toContain(key);
    for (const words of allowed) expect(err.message).toContain(words);
    expect(err.message).toContain(path);
  });

  it('leaves the file and its .bak as they were when a write is refused', async () => {
    const path = join(tempDir(), 'localconfig.json');
    await writeLocalConfig(path, { 'proxy.url': 'http://first:1' });
    await writeLocalConfig(path, { 'proxy.url': 'http://second:2' });
    const before = readFileSync(path, 'utf8');
    const bakBefore = readFileSync(`${path}.bak`, 'utf8');
    await writeError(path, { 'proxy.url': 'http://third:3', 'connection.type': 'carrier-pigeon' });
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(readFileSync(`${path}.bak`, 'utf8')).toBe(bakBefore);
  });

  it.each([
    'example.com',
    'example.com:8443',
    '*.contoso.com',
    '*.contoso.com:8443',
    'localhost',
    'my_host.corp',
    '10.0.0.1',
    '10.0.0.1:8080',
    '[::1]:443',
    '[::1]',
    '[2001:db8::5]:8443',
    '::1',
    'example.com:1',
    'example.com:65535',
  ])('accepts the allow-list entry %s, and reads it back as written', async (entry) => {
    const path = join(tempDir(), 'localconfig.json');
    await writeLocalConfig(path, { 'arcproxy.allowlist': [entry], 'gateway.bypass': [entry] });
    const config = await readLocalConfig(path);
    expect(config['arcproxy.allowlist']).toEqual([entry]);
    expect(config['gateway.bypass']).toEqual([entry]);
  });

  it.each([
    '',
    'http://proxy.contoso.com:8080',
    'https://proxy.contoso.com',
    'http://alice:s3cret@proxy.contoso.com:3128',
    'http://10.0.0.1:8080/',
    'http://[::1]:3128',
  ])('accepts the proxy URL %j', async (url) => {
    const path = join(tempDir(), 'localconfig.json');
    await writeLocalConfig(path, { 'proxy.url': url });
    expect((await readLocalConfig(path))['proxy.url']).toBe(url);
  });

  // A port is 1 to 65535 (RFC 9110 section 4.2.1 leaves 0 unusable; TCP has 16 bits). The patterns
  // check only "one to five digits", so a value that no connection can use is stored without a word.
  it.each(['example.com:0', 'example.com:65536', 'example.com:99999', '*.contoso.com:70000', '[::1]:99999'])(
    'refuses the allow-list entry %s, whose port does not exist',
    async (entry) => {
      const path = join(tempDir(), 'localconfig.json');
      const err = await writeError(path, { 'arcproxy.allowlist': [entry] });
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.message).toContain('arcproxy.allowlist');
    },
  );

  it.each(['http://proxy.contoso.com:65536', 'http://proxy.contoso.com:99999'])(
    'refuses the proxy URL %s, whose port does not exist (new URL() throws on it)',
    async (url) => {
      expect(() => new URL(url)).toThrow();
      const path = join(tempDir(), 'localconfig.json');
      const err = await writeError(path, { 'proxy.url': url });
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.message).toContain('proxy.url');
    },
  );
});
