// Heartbeats over mutual TLS: accepted with the machine certificate, recorded, and reflected in
// ARM (status, agent version, and the instance metadata the agent reports).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAndRegister, heartbeat, machinePath, startTestCloud, type TestCloud } from './helpers.ts';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ heartbeatIntervalSeconds: 120 });
});
afterAll(() => t.close());

const metadata = {
  osName: 'Debian GNU/Linux',
  osVersion: '12',
  osType: 'linux',
  kernel: '6.1.0',
  hostname: 'hb-1',
  fqdn: 'hb-1.contoso.test',
  manufacturer: 'QEMU',
  model: 'Standard PC',
  cpu: { logicalCores: 4, model: 'Virtual CPU' },
  memoryMiB: 8192,
  networkInterfaces: [{ name: 'eth0', addresses: [{ address: '10.0.0.4', family: 'IPv4' }] }],
  detected: { mssql: false, mysql: true, postgresql: false },
};

describe('POST /v1/machines/heartbeat', () => {
  it('answers Connected with the server time, the renewal date, the interval and no gateway', async () => {
    const m = await createAndRegister(t, 'hb-1');
    const a = await heartbeat(t, m, { agentVersion: '1.2.3', metadata });
    expect(a.status).toBe(200);
    expect(a.json).toEqual({
      status: 'Connected',
      serverTime: t.clock.now().toISOString(),
      lastStatusChange: expect.any(String),
      certificateNotAfter: m.answer.notAfter,
      certificateRenewAfter: m.answer.renewAfter,
      renewNow: false,
      heartbeatIntervalSeconds: 120,
      gateway: null,
    });
  });

  it('shows what the agent reported in the ARM resource', async () => {
    const token = await t.spToken();
    const got = await t.call(machinePath(t, 'hb-1').path, { headers: { authorization: `Bearer ${token}` } });
    expect(got.json.properties).toMatchObject({
      status: 'Connected',
      agentVersion: '1.2.3',
      osName: 'Debian GNU/Linux',
      osVersion: '12',
      osType: 'linux',
      displayName: 'hb-1',
      machineFqdn: 'hb-1.contoso.test',
      mssqlDiscovered: 'false',
      detectedProperties: {
        manufacturer: 'QEMU',
        model: 'Standard PC',
        logicalCoreCount: '4',
        totalPhysicalMemoryInBytes: String(8192 * 1024 * 1024),
        mysqldiscovered: 'true',
      },
      networkProfile: {
        networkInterfaces: [
          { name: 'eth0', ipAddresses: [{ address: '10.0.0.4', ipAddressVersion: 'IPv4' }] },
        ],
      },
    });
  });

  it('refuses a body without the instance fingerprint', async () => {
    const m = await createAndRegister(t, 'hb-2');
    const a = await t.call('/v1/machines/heartbeat', { cert: m.cert, key: m.keys.privateKeyPem, body: {} });
    expect(a.status).toBe(400);
    expect(a.json.error.code).toBe('InvalidRequestContent');
  });
});
