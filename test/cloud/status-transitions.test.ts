// Connected, Disconnected after 15 minutes without a heartbeat, Connected again at the next one,
// and Expired once the certificate has expired: time moved by the injected clock, not waited for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAndRegister,
  DAY,
  heartbeat,
  machinePath,
  MINUTE,
  startTestCloud,
  type TestCloud,
} from './helpers.ts';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ certDays: 30, renewDays: 10 });
});
afterAll(() => t.close());

const armView = async (name: string) => {
  // A fresh token each time: the clock moves past token lifetimes in this test.
  const token = await t.spToken();
  const a = await t.call(machinePath(t, name).path, { headers: { authorization: `Bearer ${token}` } });
  expect(a.status).toBe(200);
  return a.json.properties as { status: string; lastStatusChange: string };
};

describe('machine status over time', () => {
  it('goes Connected -> Disconnected after 15 min -> Connected -> Expired', async () => {
    const m = await createAndRegister(t, 'st-1');
    const registeredAt = t.clock.now();
    expect(await armView('st-1')).toEqual(
      expect.objectContaining({ status: 'Connected', lastStatusChange: registeredAt.toISOString() }),
    );

    t.clock.advance(15 * MINUTE);
    expect((await armView('st-1')).status).toBe('Connected');

    t.clock.advance(1 * MINUTE);
    expect(await armView('st-1')).toEqual(
      expect.objectContaining({
        status: 'Disconnected',
        lastStatusChange: new Date(registeredAt.getTime() + 15 * MINUTE).toISOString(),
      }),
    );

    const back = await heartbeat(t, m);
    expect(back.status).toBe(200);
    expect(back.json.status).toBe('Connected');
    expect(back.json.lastStatusChange).toBe(t.clock.now().toISOString());
    expect(await armView('st-1')).toEqual(
      expect.objectContaining({ status: 'Connected', lastStatusChange: t.clock.now().toISOString() }),
    );

    // Heartbeats every 5 minutes keep it Connected, and lastStatusChange stays put.
    const since = t.clock.now().toISOString();
    for (let i = 0; i < 3; i++) {
      t.clock.advance(5 * MINUTE);
      expect((await heartbeat(t, m)).json).toMatchObject({ status: 'Connected', lastStatusChange: since });
    }

    // Past the certificate's end (30 days): Expired in ARM, and the machine can no longer authenticate.
    t.clock.advance(31 * DAY);
    const expired = await armView('st-1');
    expect(expired).toEqual(
      expect.objectContaining({ status: 'Expired', lastStatusChange: m.answer.notAfter }),
    );
    const refused = await heartbeat(t, m);
    expect(refused.status).toBe(401);
    expect(refused.json.error.code).toBe('CertificateExpired');
  });
});
