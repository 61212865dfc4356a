// Writing localconfig.json: the whole file replaced at once, nothing left beside it but the .bak
// that holds exactly what was there before (the real agent keeps one since 1.65).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentError, readLocalConfig, writeLocalConfig } from '../../core/index.ts';
import { tempDir } from '../helpers/world.ts';

describe('writeLocalConfig', () => {
  it('writes a complete, readable JSON file and nothing else on the first write', async () => {
    const dir = tempDir();
    const path = join(dir, 'localconfig.json');
    await writeLocalConfig(path, { 'proxy.url': 'http://proxy.contoso.com:8080', 'proxy.bypass': ['AAD'] });
    expect(readdirSync(dir)).toEqual(['localconfig.json']);
    const text = readFileSync(path, 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toMatchObject({
      'proxy.url': 'http://proxy.contoso.com:8080',
      'proxy.bypass': ['AAD'],
      'arcproxy.allowlist.mode': 'audit',
    });
    expect(statSync(path).mode & 0o777).toBe(0o644);
  });

  it('keeps the previous file, byte for byte, as .bak and leaves no temporary file', async () => {
    const dir = tempDir();
    const path = join(dir, 'localconfig.json');
    await writeLocalConfig(path, { 'proxy.url': 'http://first:1' });
    const first = readFileSync(path, 'utf8');
    await writeLocalConfig(path, { 'proxy.url': 'http://second:2' });
    const second = readFileSync(path, 'utf8');
    await writeLocalConfig(path, { 'proxy.url': 'http://third:3' });

    expect(readdirSync(dir).sort()).toEqual(['localconfig.json', 'localconfig.json.bak']);
    expect(readFileSync(`${path}.bak`, 'utf8')).toBe(second);
    expect(second).not.toBe(first);
    expect((await readLocalConfig(path))['proxy.url']).toBe('http://third:3');
    expect((await readLocalConfig(`${path}.bak`))['proxy.url']).toBe('http://second:2');
  });

  it('stores keys under their canonical spelling, so a later read finds one value per key', async () => {
    const path = join(tempDir(), 'localconfig.json');
    await writeLocalConfig(path, { 'Proxy.Url': 'http://proxy:3128', 'CONNECTION.TYPE': 'gateway' });
    const onDisk = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    expect(onDisk['proxy.url']).toBe('http://proxy:3128');
    expect(onDisk['connection.type']).toBe('gateway');
    expect(Object.keys(onDisk)).not.toContain('Proxy.Url');
    expect(Object.keys(onDisk)).not.toContain('CONNECTION.TYPE');
  });

  it('survives many writes in a row from one process with every version readable', async () => {
    const dir = tempDir();
    const path = join(dir, 'localconfig.json');
    for (let i = 0; i < 50; i++) {
      await writeLocalConfig(path, { 'incomingconnections.ports': [1000 + i] });
      expect((await readLocalConfig(path))['incomingconnections.ports']).toEqual([1000 + i]);
    }
    expect(readdirSync(dir).sort()).toEqual(['localconfig.json', 'localconfig.json.bak']);
  });

  it('fails with CONFIG_WRITE_FAILED naming the file when its folder does not exist', async () => {
    const path = join(tempDir(), 'no-such-folder', 'localconfig.json');
    const err: unknown = await writeLocalConfig(path, {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('CONFIG_WRITE_FAILED');
    expect((err as AgentError).exitCode).toBe(69);
    expect((err as AgentError).message).toContain(path);
  });
});
