// The machine identity the gateway client presents: none before connect, read from <home>/certs/
// when it appears (connect while the Arc Proxy runs), read again on renewal, gone on disconnect,
// and never half-written: a key without its certificate keeps the identity it had.
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { certStore, createCa, generateKeyPair, issueCertificate, thumbprint } from '../../certs/index.ts';
import { ensureHome, resolveHome } from '../../core/index.ts';
import { watchMachineIdentity, type MachineIdentitySource } from '../../gateway-client/index.ts';
import { eventually, memoryLogger, tempDir } from '../helpers/world.ts';

const sources: MachineIdentitySource[] = [];
afterEach(() => {
  for (const s of sources.splice(0)) s.close();
});

async function newIdentity(ca: Awaited<ReturnType<typeof createCa>>, name: string) {
  const keys = await generateKeyPair();
  const certPem = await issueCertificate({
    ca: ca.certPem,
    caKey: ca.privateKey,
    subjectPublicKey: keys.publicKey,
    subject: name,
    days: 2,
    clientAuth: true,
  });
  return { keyPem: keys.privateKeyPem, certPem, caPem: ca.certPem };
}

async function start() {
  const home = resolveHome(tempDir(), {});
  await ensureHome(home);
  const { log, lines } = memoryLogger();
  const source = watchMachineIdentity(home, log);
  sources.push(source);
  await source.ready;
  return { home, source, store: certStore(home), lines };
}

describe('the machine identity for the gateway', () => {
  it('is none before connect, then the stored certificate once connect writes it, without a restart', async () => {
    const ca = await createCa('test cloud CA', 2);
    const { source, store } = await start();
    expect(source.current()).toBeUndefined();
    const first = await newIdentity(ca, 'machine-1');
    await store.saveMachineIdentity(first);
    await eventually(() => source.current()?.certPem === first.certPem);
    expect(source.current()?.thumbprint).toBe(thumbprint(first.certPem));
  });

  it('follows a renewal, and disappears with disconnect', async () => {
    const ca = await createCa('test cloud CA', 2);
    const { source, store, lines } = await start();
    await store.saveMachineIdentity(await newIdentity(ca, 'machine-1'));
    await eventually(() => source.current() !== undefined);
    const renewed = await newIdentity(ca, 'machine-1');
    await store.saveMachineIdentity(renewed);
    await eventually(() => source.current()?.certPem === renewed.certPem);
    await store.removeMachineIdentity();
    await eventually(() => source.current() === undefined);
    expect(lines()).not.toContain('PRIVATE KEY');
  });

  it('keeps the identity it has while the store holds a key without its certificate', async () => {
    const ca = await createCa('test cloud CA', 2);
    const { source, store } = await start();
    const first = await newIdentity(ca, 'machine-1');
    await store.saveMachineIdentity(first);
    await eventually(() => source.current()?.certPem === first.certPem);
    // The store writes the key first: a crash (or a read) between the two sees a pair that does not match.
    const next = await newIdentity(ca, 'machine-1');
    writeFileSync(store.paths.key, next.keyPem, { mode: 0o600 });
    await new Promise((r) => setTimeout(r, 200));
    expect(source.current()?.certPem).toBe(first.certPem);
    writeFileSync(store.paths.cert, next.certPem, { mode: 0o600 });
    await eventually(() => source.current()?.certPem === next.certPem);
  });
});
