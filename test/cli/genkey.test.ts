// `azcmagent genkey`: an RSA 2048 key pair whose private half stays in <home>/certs (0600 in 0700)
// and whose public half is printed; an existing key is kept unless --force.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { azcmagent } from '../helpers/cli.ts';
import { tempDir } from '../helpers/world.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('azcmagent genkey', () => {
  it('keeps a 2048-bit RSA private key in <home>/certs and prints the matching public key', async () => {
    const home = tempDir();
    const r = await azcmagent(['genkey', '--home', home]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
    const keyFile = join(home, 'certs', 'onboarding.key');
    expect(r.stderr).toContain(keyFile);
    expect(r.stdout + r.stderr).not.toContain('PRIVATE KEY');
    const privateKey = createPrivateKey(readFileSync(keyFile));
    expect(privateKey.asymmetricKeyType).toBe('rsa');
    expect(privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(createPublicKey(privateKey).export({ type: 'spki', format: 'pem' })).toBe(r.stdout);
    expect(mode(keyFile)).toBe(0o600);
    expect(mode(join(home, 'certs'))).toBe(0o700);
  });

  it('tightens an existing certs folder to 0700', async () => {
    const home = tempDir();
    mkdirSync(join(home, 'certs'), { mode: 0o755 });
    chmodSync(join(home, 'certs'), 0o755);
    expect((await azcmagent(['genkey', '--home', home])).code).toBe(0);
    expect(mode(join(home, 'certs'))).toBe(0o700);
  });

  it('refuses to replace a key without --force (exit 27), and replaces it with --force', async () => {
    const home = tempDir();
    const keyFile = join(home, 'certs', 'onboarding.key');
    const first = await azcmagent(['genkey', '--home', home]);
    const before = readFileSync(keyFile, 'utf8');

    const again = await azcmagent(['genkey', '--home', home]);
    expect(again.code).toBe(27);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain(`Error KEY_EXISTS: a private key already exists: ${keyFile}`);
    expect(again.stderr).toContain('To fix: keep it, or replace it with azcmagent genkey --force');
    expect(readFileSync(keyFile, 'utf8')).toBe(before);

    const forced = await azcmagent(['genkey', '--home', home, '--force', '--json']);
    expect(forced.code, forced.stderr).toBe(0);
    const out = JSON.parse(forced.stdout) as { publicKey: string; privateKeyFile: string };
    expect(out.privateKeyFile).toBe(keyFile);
    expect(out.publicKey).not.toBe(first.stdout);
    expect(createPublicKey(readFileSync(keyFile)).export({ type: 'spki', format: 'pem' })).toBe(
      out.publicKey,
    );
    expect(mode(keyFile)).toBe(0o600);
  });

  it('refuses with KEY_WRITE_FAILED (exit 104) when the certs folder cannot be made', async () => {
    const home = tempDir();
    writeFileSync(join(home, 'certs'), 'a file where the folder should be');
    const r = await azcmagent(['genkey', '--home', home, '-j']);
    expect(r.code).toBe(104);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'KEY_WRITE_FAILED' } });
  });
});
