// Running a real, unmodified Azure SDK client against HIMDS: each scenario in its own Node process
// (msal-node keeps its managed-identity source and token cache in static fields), with the
// environment an Arc machine gives it and nothing that would make another credential win
// (../shared/reference/himds-identity.md section 6.2). Also: the real default tokens folder, which
// clients insist on, made for the test and removed afterwards without touching anything else.
import { execFile } from 'node:child_process';
import { mkdir, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_TOKENS_DIR = '/var/opt/azcmagent/tokens';

/** Variables of other identity sources, and proxies (HIMDS is on loopback): none reach the client. */
const NOT_FOR_CLIENTS =
  /^(AZURE_.*|IDENTITY_HEADER|IDENTITY_SERVER_THUMBPRINT|MSI_ENDPOINT|MSI_SECRET|IMDS_ENDPOINT|IDENTITY_ENDPOINT|https?_proxy|no_proxy|all_proxy)$/i;

export function clientEnvironment(himdsUrl: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !NOT_FOR_CLIENTS.test(k)));
  return {
    ...env,
    IDENTITY_ENDPOINT: `${himdsUrl}/metadata/identity/oauth2/token`,
    IMDS_ENDPOINT: himdsUrl,
  };
}

/** Runs test/compat/clients/<script>.ts; resolves with the JSON it printed (or rejects with its stderr). */
export function runClient(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join('test', 'compat', 'clients', `${script}.ts`), ...args],
      { cwd: ROOT, env, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${script} failed: ${err.message}\n${stderr}`));
        try {
          resolve(JSON.parse(stdout) as Record<string, unknown>);
        } catch {
          reject(new Error(`${script} printed no JSON: ${stdout}\n${stderr}`));
        }
      },
    );
  });
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/**
 * Makes /var/opt/azcmagent/tokens (and its parents) where missing; the returned function removes
 * exactly the folders made here, and only while empty, so a real agent's files and another test's
 * are never touched.
 */
export async function claimDefaultTokensDir(): Promise<() => Promise<void>> {
  const chain: string[] = [];
  for (let d = DEFAULT_TOKENS_DIR; d !== '/'; d = dirname(d)) chain.unshift(d);
  const made: string[] = [];
  for (const d of chain) {
    if (await exists(d)) continue;
    await mkdir(d, { mode: 0o755 }).then(
      () => made.push(d),
      (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err; // made meanwhile by someone else: theirs
      },
    );
  }
  return async () => {
    for (const d of made.reverse()) await rmdir(d).catch(() => {});
  };
}

export const isRoot = (): boolean => process.getuid?.() === 0;
