// The bin, run twice on the same data folder: the second run has the same tenant, subscription,
// credentials, CA and machines, and accepts the certificate the first run issued. Also: the
// readiness line, the files it names, and a clean stop on SIGTERM and SIGINT.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../certs/index.ts';
import { execFileP } from '../helpers/world.ts';
import { CLOUD_BIN, startCloudProcess, type CloudProcess } from './bin.ts';
import { httpsCall, tempDir } from './helpers.ts';

const running: CloudProcess[] = [];
afterAll(async () => {
  for (const p of running) await p.stop('SIGKILL');
});

async function start(dir: string): Promise<CloudProcess> {
  const p = await startCloudProcess(['--data', dir, '--port', '0']);
  running.push(p);
  return p;
}

describe('arc-local-cloud restarted on the same --data', () => {
  it('keeps its machines, identities and credentials', async () => {
    const dir = tempDir();
    const first = await start(dir);
    expect(first.stdout()).toContain(`profile ${join(dir, 'profile.json')}`);
    expect(first.stdout()).toContain(`connect config ${join(dir, 'connect.json')}`);
    expect(first.stdout()).toContain(`azcmagent connect --config ${join(dir, 'connect.json')}`);
    const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const connect = JSON.parse(readFileSync(join(dir, 'connect.json'), 'utf8')) as Record<string, string>;
    const call = (port: number, path: string, o?: Parameters<typeof httpsCall>[3]) =>
      httpsCall(port, ca, path, o);
    const armToken = async (port: number) => {
      const a = await call(port, `/${connect['tenant-id']}/oauth2/v2.0/token`, {
        form: {
          grant_type: 'client_credentials',
          client_id: connect['service-principal-id']!,
          client_secret: connect['service-principal-secret']!,
          scope: 'https://management.arc-local.test/.default',
        },
      });
      expect(a.status).toBe(200);
      return { authorization: `Bearer ${a.json.access_token}` };
    };
    const id = `/subscriptions/${connect['subscription-id']}/resourceGroups/${connect['resource-group']}/providers/Microsoft.HybridCompute/machines/survivor`;
    const path = `${id}?api-version=2024-07-10`;

    const auth1 = await armToken(first.port);
    const created = await call(first.port, path, {
      method: 'PUT',
      headers: auth1,
      body: { location: connect['location'] },
    });
    expect(created.status).toBe(201);
    const keys = await generateKeyPair();
    const reg = await call(first.port, '/v1/machines/register', {
      headers: auth1,
      body: { resourceId: id, publicKey: keys.publicKeyPem, fingerprint: 'fp' },
    });
    expect(reg.status).toBe(201);
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await start(dir);
    expect(readFileSync(join(dir, 'ca.pem'), 'utf8')).toBe(ca);
    expect(JSON.parse(readFileSync(join(dir, 'connect.json'), 'utf8'))).toEqual(connect);
    const profile = JSON.parse(readFileSync(join(dir, 'profile.json'), 'utf8'));
    expect(profile.resolve['management.arc-local.test']).toBe(`127.0.0.1:${second.port}`);

    // A token from the first run still verifies: the signing key was kept.
    const got = await call(second.port, path, { headers: auth1 });
    expect(got.status).toBe(200);
    expect(got.json.properties.vmId).toBe(created.json.properties.vmId);
    expect(got.json.identity.principalId).toBe(created.json.identity.principalId);
    expect(got.json.properties.status).toBe('Connected');

    // So does the machine certificate the first run issued.
    const beat = await call(second.port, '/v1/machines/heartbeat', {
      cert: reg.json.certificate,
      key: keys.privateKeyPem,
      body: { fingerprint: 'fp' },
    });
    expect(beat.status).toBe(200);
    expect(beat.json.status).toBe('Connected');
    expect(await second.stop('SIGINT')).toBe(0);
  });

  it('refuses bad flags with a message and a non-zero exit', async () => {
    const r = await execFileP(process.execPath, [
      CLOUD_BIN,
      '--data',
      tempDir(),
      '--renew-days',
      '100',
    ]).catch((e: { code: number; stderr: string }) => e);
    expect('code' in r && r.code).toBe(23);
    expect((r as { stderr: string }).stderr).toMatch(
      /ARGUMENT_INVALID: .*renewDays 100 must be less than certDays 90/,
    );
  });
});
