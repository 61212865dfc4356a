// Association is ARM state, read at every CONNECT and every heartbeat: associating a machine through
// settings/default opens the gateway to it at its next CONNECT and names the gateway in its next
// heartbeat (and cloudconfig); detaching, or deleting the gateway, undoes both at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { associate, gatewayConnect, gatewayPath } from './gateway-helpers.ts';
import { createAndRegister, heartbeat, startTestCloud, type Registered, type TestCloud } from './helpers.ts';

let t: TestCloud;
let m: Registered;
let auth: { cert: string; key: string };
beforeAll(async () => {
  t = await startTestCloud({ gatewayAllow: ['extra.test:8443'] });
  m = await createAndRegister(t, 'assoc');
  auth = { cert: m.cert, key: m.keys.privateKeyPem };
});
afterAll(() => t.close());

const SERVED = 'agentserviceapi.guestconfiguration.arc-local.test:443';

async function connectCode(): Promise<string | number> {
  const a = await gatewayConnect(t.cloud, SERVED, auth);
  a.socket.destroy();
  return a.code ?? a.status;
}

const cloudconfig = () => t.call('/v1/machines/cloudconfig', auth);

describe('associating a machine with the gateway through ARM', () => {
  it('starts unassociated: refused, and the heartbeat and cloudconfig say gateway null', async () => {
    expect(await connectCode()).toBe('MachineNotAssociated');
    expect((await heartbeat(t, m)).json.gateway).toBeNull();
    const c = await cloudconfig();
    expect(c.status).toBe(200);
    expect(c.json).toEqual({ gateway: null });
  });

  it('takes effect at the next CONNECT and the next heartbeat', async () => {
    const a = await associate(t, m.id, t.cloud.gateway.id);
    expect(a.status).toBe(200);
    expect(await connectCode()).toBe(200);
    const gateway = (await heartbeat(t, m)).json.gateway;
    expect(gateway).toEqual({
      id: t.cloud.gateway.id,
      url: t.cloud.gateway.url,
      endpoints: expect.any(Array),
    });
    expect(gateway.endpoints).toEqual(
      expect.arrayContaining([
        'management.azure.com',
        '*.his.arc.azure.com',
        '*.obo.arc.azure.com:8084',
        'www.microsoft.com:80',
        'login.arc-local.test',
        '*.his.arc-local.test',
        'extra.test:8443',
      ]),
    );
    // Only forms the agent matches: the two label wildcards of the public list are not sent.
    const endpoints = gateway.endpoints as string[];
    expect(endpoints.filter((e) => e.replace(/^\*\./, '').includes('*'))).toEqual([]);
    expect((await cloudconfig()).json).toEqual({ gateway });
  });

  it('is undone by an empty gatewayResourceId', async () => {
    const a = await associate(t, m.id, '');
    expect(a.status).toBe(200);
    expect(a.json.properties.gatewayProperties).toEqual({ gatewayId: null, gatewayResourceId: null });
    expect(await connectCode()).toBe('MachineNotAssociated');
    expect((await heartbeat(t, m)).json.gateway).toBeNull();
  });

  it('follows the machine to another gateway, and deleting that gateway detaches it', async () => {
    expect((await associate(t, m.id, t.cloud.gateway.id)).status).toBe(200);
    const token = await t.spToken();
    const other = gatewayPath(t, 'second');
    const created = await t.call(other.path, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}` },
      body: { location: 'eastus' },
    });
    expect(created.status).toBe(201);
    expect((await associate(t, m.id, other.id)).status).toBe(200);
    expect((await heartbeat(t, m)).json.gateway).toMatchObject({
      id: other.id,
      url: created.json.properties.gatewayEndpoint,
    });
    expect(await connectCode()).toBe('MachineNotAssociated');

    const del = await t.call(other.path, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(del.status).toBe(200);
    expect((await heartbeat(t, m)).json.gateway).toBeNull();
  });

  it('needs the machine certificate for cloudconfig', async () => {
    const a = await t.call('/v1/machines/cloudconfig');
    expect(a.status).toBe(401);
    expect(a.json.error.code).toBe('ClientCertificateRequired');
  });
});
