// The agent's home folder: everything the agent writes lives below it, so a test or a demo is one
// temporary folder. `--home DIR` beats AZCMAGENT_HOME, which beats the real agent's default.
import { chmod, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const DEFAULT_HOME = '/var/opt/azcmagent';

export interface HomeLayout {
  root: string;
  localConfig: string;
  agentConfig: string;
  cloudConfig: string;
  certs: string;
  tokens: string;
  log: string;
  socks: string;
  meter: string;
  extensions: string;
  guestConfig: string;
}

export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv): HomeLayout {
  // An empty value counts as unset: resolve('') would be the working folder.
  const root = resolve(flag || env['AZCMAGENT_HOME'] || DEFAULT_HOME);
  return {
    root,
    localConfig: join(root, 'localconfig.json'),
    agentConfig: join(root, 'agentconfig.json'),
    cloudConfig: join(root, 'cloudconfig.json'),
    certs: join(root, 'certs'),
    tokens: join(root, 'tokens'),
    log: join(root, 'log'),
    socks: join(root, 'socks'),
    meter: join(root, 'meter'),
    extensions: join(root, 'extensions'),
    guestConfig: join(root, 'guestconfig'),
  };
}

/** Creates the folders a service writes to, with the modes the real agent uses. */
export async function ensureHome(home: HomeLayout): Promise<void> {
  await mkdir(home.root, { recursive: true, mode: 0o755 });
  await Promise.all([
    mkdir(home.certs, { recursive: true, mode: 0o700 }).then(() => chmod(home.certs, 0o700)),
    mkdir(home.log, { recursive: true, mode: 0o755 }),
    mkdir(home.socks, { recursive: true, mode: 0o755 }),
    mkdir(home.meter, { recursive: true, mode: 0o750 }),
  ]);
}
