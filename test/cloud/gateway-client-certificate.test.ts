// Who may tunnel: only a machine of this cloud, with a valid certificate (the identity service's own
// checks), whose settings/default names this gateway. Every other certificate is refused with the
// code the agent turns into GATEWAY_CLIENT_CERT_REFUSED, before the target is even looked at.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePki } from '../helpers/world.ts';
import { associate, gatewayConnect, gatewayPath } from './gateway-helpers.ts';
import {
  createAndRegister,
  DAY,
  machinePath,
  startTestCloud,
  type Registered,
  type TestCloud,
} from './helpers.ts';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(() => t.close());

const SERVED = 'agentserviceapi.guestconfiguration.arc-local.test:443';

/** openssl as the client: TLS with the given certificate, one CONNECT, everything until the gateway closes. */
function opensslConnect(cert: string, key: string, target: string): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile(
      'openssl',
      [
        's_client',
        '-connect',
        t.cloud.gateway.address,
        '-servername',
        t.cloud.gateway.host,
        '-CAfile',
        t.cloud.files.ca,
        '-verify_return_error',
        '-cert',
        cert,
        '-key',
        key,
        '-quiet',
        '-ign_eof',
      ],
      { timeout: 10_000 },
      (_err, stdout) => resolve(stdout),
    );
    child.stdin?.end(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  });
}

/** The status of a CONNECT with the machine's certificate; a tunnel that opened is closed again. */
async function tunnelStatus(m: Registered): Promise<number> {
  const a = await gatewayConnect(t.cloud, SERVED, { cert: m.cert, key: m.keys.privateKeyPem });
  a.socket.destroy();
  return a.status;
}

describe('the gateway checks the client certificate', () => {
  it('refuses a certificate from another CA: InvalidClientCertificate (openssl as the client)', async () => {
    const other = makePki();
    const out = await opensslConnect(other.certFile, other.keyFile, SERVED);
    expect(out).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(out).toMatch(/\r\nx-arc-gateway-error: InvalidClientCertificate\r\n/);
    expect(out).toContain('"code":"InvalidClientCertificate"');
  });

  it('refuses a machine that is not associated: MachineNotAssociated', async () => {
    const m = await createAndRegister(t, 'lonely');
    const a = await gatewayConnect(t.cloud, SERVED, { cert: m.cert, key: m.keys.privateKeyPem });
    expect(a.status).toBe(403);
    expect(a.code).toBe('MachineNotAssociated');
    expect(a.body.error.message).toContain(t.cloud.gateway.id);
  });

  it('refuses a machine associated with another gateway: MachineNotAssociated', async () => {
    const token = await t.spToken();
    const other = gatewayPath(t, 'other-gw');
    const put = await t.call(other.path, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}` },
      body: { location: 'eastus' },
    });
    expect(put.status).toBe(201);
    const m = await createAndRegister(t, 'elsewhere');
    expect((await associate(t, m.id, other.id)).status).toBe(200);
    const a = await gatewayConnect(t.cloud, SERVED, { cert: m.cert, key: m.keys.privateKeyPem });
    expect(a.code).toBe('MachineNotAssociated');
    expect(a.body.error.message).toContain('another gateway');
  });

  it('refuses a certificate replaced by a later registration: InvalidClientCertificate', async () => {
    const first = await createAndRegister(t, 'again');
    expect((await associate(t, first.id, t.cloud.gateway.id)).status).toBe(200);
    expect(await tunnelStatus(first)).toBe(200);
    const second = await createAndRegister(t, 'again');
    const a = await gatewayConnect(t.cloud, SERVED, { cert: first.cert, key: first.keys.privateKeyPem });
    expect(a.code).toBe('InvalidClientCertificate');
    expect(a.body.error.message).toContain('CertificateRevoked');
    // The association belongs to the machine, not the certificate: the new one works.
    expect(await tunnelStatus(second)).toBe(200);
  });

  it('refuses the certificate of a deleted machine: InvalidClientCertificate', async () => {
    const m = await createAndRegister(t, 'doomed');
    expect((await associate(t, m.id, t.cloud.gateway.id)).status).toBe(200);
    const token = await t.spToken();
    const del = await t.call(machinePath(t, 'doomed').path, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(del.status).toBe(200);
    const a = await gatewayConnect(t.cloud, SERVED, { cert: m.cert, key: m.keys.privateKeyPem });
    expect(a.code).toBe('InvalidClientCertificate');
    expect(a.body.error.message).toContain('MachineNotFound');
  });

  it('refuses an expired certificate: InvalidClientCertificate (last: it moves the clock)', async () => {
    const m = await createAndRegister(t, 'aging');
    expect((await associate(t, m.id, t.cloud.gateway.id)).status).toBe(200);
    t.clock.advance(91 * DAY);
    const a = await gatewayConnect(t.cloud, SERVED, { cert: m.cert, key: m.keys.privateKeyPem });
    expect(a.code).toBe('InvalidClientCertificate');
    expect(a.body.error.message).toContain('CertificateExpired');
  });
});
