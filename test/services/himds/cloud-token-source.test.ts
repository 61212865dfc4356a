// HIMDS's default token source: the machine-token route of the cloud's identity service, reached
// through the real Arc Proxy as client `himds`, over mutual TLS with the machine certificate. The
// token a client gets verifies against the cloud's JWKS, for the resource it asked for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { Agent, request } from 'undici';
import { eventually } from '../../helpers/world.ts';
import { API, startCloudWorld, tokenFlow, type CloudWorld } from './world.ts';

let world: CloudWorld;
beforeAll(async () => {
  world = await startCloudWorld();
});
afterAll(async () => {
  await world?.close();
});

async function jwks(): Promise<JSONWebKeySet> {
  const dispatcher = new Agent({ connect: { ca: world.cloud.caPem } });
  const res = await request(world.cloud.jwksUrl, { dispatcher });
  const body = (await res.body.json()) as JSONWebKeySet;
  await dispatcher.close();
  return body;
}

describe('the default token source (the cloud, through the Arc Proxy)', () => {
  it('gets a token for the machine identity that verifies against the cloud JWKS', async () => {
    const resource = 'https://vault.azure.net';
    const { challenge, answer } = await tokenFlow(
      world.himds.url,
      `${API}&resource=${encodeURIComponent(resource)}`,
    );
    expect(challenge.status).toBe(401);
    expect(answer.status).toBe(200);
    const token = answer.body['access_token'] as string;
    const { payload } = await jwtVerify(token, createLocalJWKSet(await jwks()), {
      audience: resource,
      issuer: world.cloud.issuer,
    });
    expect(payload.sub).toBe(world.machine.principalId);
    expect(answer.body['client_id']).toBe(world.machine.clientId);
    expect(answer.body['resource']).toBe(resource);
    expect(String(payload.exp)).toBe(answer.body['expires_on']);
  });

  it('goes through the Arc Proxy as client himds, with the machine certificate', async () => {
    const before = world.cloud.tokenRequests.length;
    const { answer } = await tokenFlow(world.himds.url, `${API}&resource=https://storage.azure.com/`);
    expect(answer.status).toBe(200);
    expect(world.cloud.tokenRequests.slice(before).map((r) => r.resource)).toEqual([
      'https://storage.azure.com/',
    ]);
    // The meter counts a tunnel when it closes: stopping HIMDS closes its connection to the cloud.
    await world.himds.stop();
    const clients = () => world.proxy.proxy.meter.snapshot().entries.map((e) => e.client);
    await eventually(() => clients().includes('himds'));
    expect(clients()).toEqual(['himds']);
  });
});
