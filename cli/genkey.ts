// `azcmagent genkey`: an RSA 2048 key pair for asynchronous onboarding. The private key stays in
// <home>/certs/onboarding.key (PKCS#8 PEM, mode 0600, folder 0700); the public key (SPKI PEM) is
// printed for whoever registers the machine. An existing key is kept unless --force: its public
// half may already be registered, and replacing it silently would break that onboarding.
import type { Command } from 'commander';
import { chmod, lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AgentError,
  nodeCrypto,
  openCommandLog,
  resolveHome,
  writeFileAtomic,
  type HomeLayout,
} from '../core/index.ts';
import { fail, printJson, type GlobalOptions } from './output.ts';

interface GenkeyOptions extends GlobalOptions {
  force?: boolean;
  verbose?: boolean;
}

export const onboardingKeyFile = (home: HomeLayout): string => join(home.certs, 'onboarding.key');

const writeFailed = (err: unknown) =>
  new AgentError('KEY_WRITE_FAILED', (err as Error).message, { cause: err });

/** Puts `pem` at `file` with mode 0600, all or nothing; without `replace`, never over a key that appeared meanwhile. */
async function placeKey(file: string, pem: string, replace: boolean): Promise<void> {
  try {
    await writeFileAtomic(file, pem, 0o600, { replace });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new AgentError('KEY_EXISTS', file);
    throw writeFailed(err);
  }
}

async function genkey(home: HomeLayout, force: boolean): Promise<{ publicKey: string; file: string }> {
  const file = onboardingKeyFile(home);
  try {
    await mkdir(home.certs, { recursive: true, mode: 0o700 });
    await chmod(home.certs, 0o700);
  } catch (err) {
    throw writeFailed(err);
  }
  const exists = await lstat(file).then(
    () => true,
    () => false,
  );
  if (exists && !force) throw new AgentError('KEY_EXISTS', file);
  const { promisify } = await import('node:util');
  const generate = promisify(nodeCrypto().generateKeyPair);
  const { publicKey, privateKey } = await generate('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  await placeKey(file, privateKey, force);
  return { publicKey, file };
}

export function registerGenkey(program: Command): void {
  program
    .command('genkey')
    .description('create a key pair for asynchronous onboarding and print the public key')
    .option('--force', 'replace an existing key (its public key stops matching)')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GenkeyOptions>();
      const home = resolveHome(opts.home, process.env);
      const { log, close } = openCommandLog({ logDir: home.log, verbose: opts.verbose });
      try {
        const { publicKey, file } = await genkey(home, opts.force === true);
        log.info({ file, replaced: opts.force === true }, 'genkey: new RSA 2048 key pair');
        await close();
        if (opts.json) return printJson({ publicKey, privateKeyFile: file });
        process.stdout.write(publicKey);
        process.stderr.write(`azcmagent: private key kept in ${file} (mode 0600)\n`);
      } catch (err) {
        log.error({ code: (err as AgentError).code }, 'genkey failed');
        await close();
        fail(err, opts.json);
      }
    });
}
