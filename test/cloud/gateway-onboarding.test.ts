// The onboarding exemption: a machine on a network that reaches only the gateway has no certificate
// until `azcmagent connect` has gone through, so the gateway serves the onboarding endpoints (token,
// ARM, global and regional identity service) to a client without one. Here curl onboards a machine
// through the gateway alone: token, ARM PUT, registration. Anything else still needs the certificate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../certs/index.ts';
import { curl, eventually } from '../helpers/world.ts';
import { curlThroughGateway, gatewayConnect } from './gateway-helpers.ts';
import { machinePath, startTestCloud, type TestCloud } from './helpers.ts';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(() => t.close());

const json = (r: { code: number; stdout: string; stderr: string }): Record<string, unknown> => {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};

interface TunnelLine {
  target: string;
  machine: string | null;
  sent: number;
  received: number;
}

describe('onboarding through the gateway without a client certificate', () => {
  it('gets a token, creates the machine in ARM and registers it, all through the gateway', async () => {
    const token = json(
      await curl([
        ...curlThroughGateway(t.cloud, `https://login.arc-local.test/${t.cloud.tenantId}/oauth2/v2.0/token`),
        '--data-urlencode',
        'grant_type=client_credentials',
        '--data-urlencode',
        `client_id=${t.connect['service-principal-id']}`,
        '--data-urlencode',
        `client_secret=${t.connect['service-principal-secret']}`,
        '--data-urlencode',
        'scope=https://management.arc-local.test/.default',
      ]),
    )['access_token'] as string;
    expect(token).toMatch(/^ey/);

    const { id, path } = machinePath(t, 'onboarded');
    const auth = ['-H', `authorization: Bearer ${token}`, '-H', 'content-type: application/json'];
    const put = json(
      await curl([
        ...curlThroughGateway(t.cloud, `https://management.arc-local.test${path}`),
        '-X',
        'PUT',
        ...auth,
        '--data',
        JSON.stringify({ location: 'eastus' }),
      ]),
    );
    expect(put['id']).toBe(id);

    const keys = await generateKeyPair();
    const registered = json(
      await curl([
        ...curlThroughGateway(t.cloud, 'https://eastus.his.arc-local.test/v1/machines/register'),
        ...auth,
        '--data',
        JSON.stringify({ resourceId: id, publicKey: keys.publicKeyPem, fingerprint: 'fp' }),
      ]),
    );
    expect(registered['certificate']).toContain('BEGIN CERTIFICATE');
  });

  it('logs the anonymous tunnels with their byte counts', async () => {
    const closed = () =>
      t
        .logLines()
        .split('\n')
        .filter((l) => l.includes('gateway tunnel closed'))
        .map((l) => JSON.parse(l) as TunnelLine);
    // One line per tunnel once both of its sockets have closed, a moment after curl is done.
    await eventually(() => closed().length >= 3);
    const tunnels = closed();
    expect(tunnels.map((l) => l.target)).toEqual(
      expect.arrayContaining(['login.arc-local.test:443', 'management.arc-local.test:443']),
    );
    for (const l of tunnels) {
      expect(l.machine).toBeNull();
      expect(l.sent).toBeGreaterThan(0);
      expect(l.received).toBeGreaterThan(0);
    }
    expect(t.logLines()).not.toContain(t.connect['service-principal-secret']!);
  });

  it('refuses any other target without a certificate: ClientCertificateRequired', async () => {
    const a = await gatewayConnect(t.cloud, 'agentserviceapi.guestconfiguration.arc-local.test:443');
    expect(a.status).toBe(403);
    expect(a.code).toBe('ClientCertificateRequired');
    expect(a.body).toEqual({ error: { code: 'ClientCertificateRequired', message: expect.any(String) } });
  });

  it('serves onboarding hosts on 443 only', async () => {
    const a = await gatewayConnect(t.cloud, 'login.arc-local.test:8443');
    expect(a.status).toBe(403);
    expect(a.code).toBe('ClientCertificateRequired');
  });
});
