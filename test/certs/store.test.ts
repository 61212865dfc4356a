// The agent's certificate store: modes, atomic round trip, and refusing a key and certificate that
// do not belong together.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  certStore,
  createCa,
  generateKeyPair,
  issueCertificate,
  thumbprint,
  type CertificateAuthority,
  type KeyPair,
} from '../../certs/index.ts';
import { tempDir } from './helpers.ts';

let ca: CertificateAuthority;
let keys: KeyPair;
let certPem: string;

beforeAll(async () => {
  ca = await createCa('Store CA', 1);
  keys = await generateKeyPair();
  certPem = await issueCertificate({
    ca: ca.certPem,
    caKey: ca.privateKey,
    subjectPublicKey: keys.publicKey,
    subject: 'CN=m',
    days: 1,
    clientAuth: true,
  });
});

const mode = (path: string) => statSync(path).mode & 0o777;

describe('certStore', () => {
  it('saves under <home>/certs with 0700 and 0600, and loads the same identity back', async () => {
    const home = tempDir();
    const store = certStore(home);
    expect(await store.loadMachineIdentity()).toBeUndefined();
    await store.saveMachineIdentity({
      keyPem: keys.privateKeyPem,
      certPem,
      caPem: ca.certPem,
      renewAfter: '2030-01-01T00:00:00.000Z',
    });
    expect(store.dir).toBe(join(home, 'certs'));
    expect(mode(store.dir)).toBe(0o700);
    for (const f of Object.values(store.paths)) expect(mode(f)).toBe(0o600);
    // Atomic writes leave no temporary files behind.
    expect(readdirSync(store.dir).sort()).toEqual([
      'cloud-ca.pem',
      'machine.json',
      'machine.key',
      'machine.pem',
    ]);
    const loaded = await store.loadMachineIdentity();
    expect(loaded).toMatchObject({
      keyPem: keys.privateKeyPem,
      certPem,
      caPem: ca.certPem,
      renewAfter: '2030-01-01T00:00:00.000Z',
      thumbprint: thumbprint(certPem),
    });
    expect(Date.parse(loaded!.notAfter)).toBeGreaterThan(Date.now());
  });

  it('takes a home layout object too (core/home.ts) and tightens an existing folder to 0700', async () => {
    const home = tempDir();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(home, 'c'), { mode: 0o755 });
    const store = certStore({ certs: join(home, 'c') });
    await store.saveMachineIdentity({ keyPem: keys.privateKeyPem, certPem, caPem: ca.certPem });
    expect(mode(join(home, 'c'))).toBe(0o700);
  });

  it('refuses to save a certificate for another key', async () => {
    const other = await generateKeyPair();
    const store = certStore(tempDir());
    await expect(
      store.saveMachineIdentity({ keyPem: other.privateKeyPem, certPem, caPem: ca.certPem }),
    ).rejects.toMatchObject({ code: 'ARGUMENT_INVALID' });
    expect(existsSync(store.paths.key)).toBe(false);
  });

  it('reports a key and certificate that do not match (a crash between the two writes)', async () => {
    const store = certStore(tempDir());
    await store.saveMachineIdentity({ keyPem: keys.privateKeyPem, certPem, caPem: ca.certPem });
    writeFileSync(store.paths.key, (await generateKeyPair()).privateKeyPem);
    await expect(store.loadMachineIdentity()).rejects.toMatchObject({ code: 'CONFIG_UNREADABLE' });
  });

  it('reports an incomplete identity, and removes everything', async () => {
    const store = certStore(tempDir());
    await store.saveMachineIdentity({ keyPem: keys.privateKeyPem, certPem, caPem: ca.certPem });
    const { rmSync } = await import('node:fs');
    rmSync(store.paths.ca);
    await expect(store.loadMachineIdentity()).rejects.toMatchObject({ code: 'CONFIG_UNREADABLE' });
    await store.removeMachineIdentity();
    expect(readdirSync(store.dir)).toEqual([]);
    expect(await store.loadMachineIdentity()).toBeUndefined();
  });
});
