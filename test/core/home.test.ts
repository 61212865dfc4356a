// The agent home: `--home DIR` beats AZCMAGENT_HOME, which beats /var/opt/azcmagent, and ensureHome
// makes the folders services write to, certs/ private to its owner.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HOME, ensureHome, resolveHome } from '../../core/index.ts';
import { tempDir } from '../helpers/world.ts';

const modeOf = (path: string): number => statSync(path).mode & 0o777;

describe('resolveHome', () => {
  it('takes --home over AZCMAGENT_HOME', () => {
    expect(resolveHome('/srv/flag-home', { AZCMAGENT_HOME: '/srv/env-home' }).root).toBe('/srv/flag-home');
  });

  it('takes AZCMAGENT_HOME when there is no --home', () => {
    expect(resolveHome(undefined, { AZCMAGENT_HOME: '/srv/env-home' }).root).toBe('/srv/env-home');
  });

  it("falls back to the real agent's /var/opt/azcmagent", () => {
    expect(DEFAULT_HOME).toBe('/var/opt/azcmagent');
    expect(resolveHome(undefined, {}).root).toBe('/var/opt/azcmagent');
  });

  it('lays out the files and folders of the real agent under the root', () => {
    const home = resolveHome(undefined, {});
    expect(home).toEqual({
      root: '/var/opt/azcmagent',
      localConfig: '/var/opt/azcmagent/localconfig.json',
      agentConfig: '/var/opt/azcmagent/agentconfig.json',
      cloudConfig: '/var/opt/azcmagent/cloudconfig.json',
      certs: '/var/opt/azcmagent/certs',
      tokens: '/var/opt/azcmagent/tokens',
      log: '/var/opt/azcmagent/log',
      socks: '/var/opt/azcmagent/socks',
      meter: '/var/opt/azcmagent/meter',
      extensions: '/var/opt/azcmagent/extensions',
      guestConfig: '/var/opt/azcmagent/guestconfig',
    });
  });

  it('makes a relative --home absolute, against the working folder', () => {
    const home = resolveHome('rel/home', {});
    expect(home.root).toBe(resolve(process.cwd(), 'rel/home'));
    expect(home.localConfig).toBe(join(home.root, 'localconfig.json'));
  });

  // `Environment=AZCMAGENT_HOME=` in a systemd unit, or `export AZCMAGENT_HOME=` in a script, sets the
  // variable to the empty string. Taken as a path, that is the working folder (often /), and the
  // agent would write localconfig.json and certs/ there. Empty means unset, as for XDG_CONFIG_HOME.
  it('treats an empty AZCMAGENT_HOME as unset, not as the working folder', () => {
    expect(resolveHome(undefined, { AZCMAGENT_HOME: '' }).root).toBe('/var/opt/azcmagent');
  });
});

describe('ensureHome', () => {
  it('creates the root and the service folders, certs/ with mode 0700', async () => {
    const home = resolveHome(join(tempDir(), 'nested', 'home'), {});
    await ensureHome(home);
    expect(statSync(home.root).isDirectory()).toBe(true);
    expect(modeOf(home.certs)).toBe(0o700);
    expect(modeOf(home.meter) & 0o007).toBe(0);
    for (const dir of [home.log, home.socks, home.meter]) expect(modeOf(dir) & 0o700).toBe(0o700);
    expect(existsSync(home.localConfig)).toBe(false);
  });

  it('can run again over an existing home and leaves it as it was', async () => {
    const home = resolveHome(tempDir(), {});
    await ensureHome(home);
    mkdirSync(join(home.certs, 'keep'));
    await ensureHome(home);
    expect(existsSync(join(home.certs, 'keep'))).toBe(true);
    expect(modeOf(home.certs)).toBe(0o700);
  });
});
