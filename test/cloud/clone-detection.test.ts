// Clone detection: a second machine that heartbeats with an identity already in use (same
// certificate and key, another instance fingerprint) gets 429; the original carries on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAndRegister, heartbeat, startTestCloud, type TestCloud } from './helpers.ts';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(() => t.close());

describe('clone detection', () => {
  it('answers 429 CloneDetected to the copy, and keeps serving the original', async () => {
    const original = await createAndRegister(t, 'vm-image', { fingerprint: 'instance-A' });
    const clone = { ...original, fingerprint: 'instance-B' };

    expect((await heartbeat(t, original)).status).toBe(200);
    const a = await heartbeat(t, clone);
    expect(a.status).toBe(429);
    expect(a.json.error.code).toBe('CloneDetected');
    expect(a.json.error.message).toContain('azcmagent disconnect --force-local-only');

    // The copy cannot get tokens or a certificate of its own either, when it says who it is.
    const token = await t.call('/v1/machines/token', {
      cert: clone.cert,
      key: clone.keys.privateKeyPem,
      body: { resource: 'https://management.arc-local.test', fingerprint: clone.fingerprint },
    });
    expect(token.status).toBe(429);
    const renew = await t.call('/v1/machines/renew', {
      cert: clone.cert,
      key: clone.keys.privateKeyPem,
      body: { publicKey: clone.keys.publicKeyPem, fingerprint: clone.fingerprint },
    });
    expect(renew.status).toBe(429);

    const again = await heartbeat(t, original);
    expect(again.status).toBe(200);
    expect(again.json.status).toBe('Connected');
  });
});
