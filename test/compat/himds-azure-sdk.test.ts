// The real Azure SDK clients, unmodified, get managed-identity tokens from our HIMDS: each scenario
// runs in its own process with only IDENTITY_ENDPOINT and IMDS_ENDPOINT pointing at HIMDS on a port-0
// listener, and the challenge in the real /var/opt/azcmagent/tokens that these clients insist on.
// HIMDS gets its tokens the default way from the real local cloud (cloud/: through the Arc Proxy,
// mutual TLS with the machine certificate), and each token verifies against the local cloud's JWKS
// for the resource asked for.
// Needs root (the tokens folder is under /var/opt); CI runs as root.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { Agent, request } from 'undici';
import { startLocalCloudForTests } from '../services/himds/local-cloud.ts';
import type { CloudForTests } from '../services/himds/test-cloud.ts';
import { startCloudWorld, type CloudWorld } from '../services/himds/world.ts';
import {
  claimDefaultTokensDir,
  clientEnvironment,
  DEFAULT_TOKENS_DIR,
  isRoot,
  runClient,
} from './sdk-client.ts';

const why = 'needs root: the clients only accept challenges in /var/opt/azcmagent/tokens';
if (!isRoot()) console.warn(`skipping the Azure SDK compatibility tests: ${why}`);

describe.skipIf(!isRoot())('real Azure SDK clients against HIMDS', () => {
  let world: CloudWorld<CloudForTests>;
  let release: () => Promise<void>;
  let keys: JSONWebKeySet;

  beforeAll(async () => {
    release = await claimDefaultTokensDir();
    world = await startCloudWorld({ tokensDir: DEFAULT_TOKENS_DIR }, startLocalCloudForTests);
    const dispatcher = new Agent({ connect: { ca: world.cloud.caPem } });
    keys = (await (await request(world.cloud.jwksUrl, { dispatcher })).body.json()) as JSONWebKeySet;
    await dispatcher.close();
  });
  afterAll(async () => {
    await world?.close();
    await release?.();
  });

  /** Verifies the token against the cloud's JWKS; resolves with its claims. */
  const verify = async (token: unknown, resource: string) =>
    (
      await jwtVerify(String(token), createLocalJWKSet(keys), {
        audience: resource,
        issuer: world.cloud.issuer,
      })
    ).payload;

  /** HIMDS's own count of what the client did: challenges issued and tokens served, with api-versions. */
  const seen = () => {
    const lines = world.lines();
    return {
      challenges: lines.split('"challenge issued"').length - 1,
      served: [...lines.matchAll(/"apiVersion":"([^"]+)"[^\n]*"token served"/g)].map((m) => m[1]),
    };
  };

  /**
   * The client's expiry is our expires_on: msal-node turns it into expires_in against one reading of
   * the clock and back against another, so it may come out a second early.
   */
  const expectExpiry = (clientMs: unknown, exp: number | undefined) => {
    expect(Math.abs(Number(clientMs) - (exp ?? 0) * 1000)).toBeLessThanOrEqual(1000);
  };

  const run = async (script: string, args: string[]) => {
    const before = seen();
    const out = await runClient(script, args, clientEnvironment(world.himds.url));
    const after = seen();
    return {
      out,
      challenges: after.challenges - before.challenges,
      apiVersions: after.served.slice(before.served.length),
    };
  };

  it('@azure/identity ManagedIdentityCredential gets a token (one challenge, api-version 2020-06-01)', async () => {
    const resource = 'https://vault.azure.net';
    const { out, challenges, apiVersions } = await run('managed-identity-credential', [resource]);
    const claims = await verify(out['token'], resource);
    expect(claims.sub).toBe(world.machine.principalId);
    expectExpiry(out['expiresOnTimestamp'], claims.exp);
    expect(challenges).toBe(1);
    expect(apiVersions).toEqual(['2020-06-01']);
  });

  it('@azure/identity DefaultAzureCredential (no AZURE_* variables) gets a token', async () => {
    const resource = 'https://management.azure.com';
    const { out, challenges } = await run('default-azure-credential', [resource]);
    const claims = await verify(out['token'], resource);
    expect(claims.oid).toBe(world.machine.principalId);
    expect(challenges).toBe(1);
  });

  it('@azure/msal-node ManagedIdentityApplication detects AzureArc and gets a token', async () => {
    const resource = 'https://storage.azure.com/';
    const { out, challenges } = await run('msal-node-managed-identity', [resource]);
    expect(out['source']).toBe('AzureArc');
    const claims = await verify(out['token'], resource);
    expect(claims.appid).toBe(world.machine.clientId);
    expectExpiry(out['expiresOn'], claims.exp);
    expect(challenges).toBe(1);
  });

  it('msal-node with the machine as user-assigned resource id gets a token (the id is echoed)', async () => {
    const resource = 'https://vault.azure.net';
    const { out } = await run('msal-node-managed-identity', [
      resource,
      'resource-id',
      world.machine.resourceId,
    ]);
    expect(out['errorCode']).toBeUndefined();
    expect((await verify(out['token'], resource)).sub).toBe(world.machine.principalId);
  });

  it('msal-node with a client id the machine does not have gets identity_not_found', async () => {
    const { out } = await run('msal-node-managed-identity', [
      'https://vault.azure.net',
      'client-id',
      '00000000-0000-0000-0000-00000000beef',
    ]);
    expect(out['source']).toBe('AzureArc');
    expect(out['token']).toBeUndefined();
    expect(out['errorCode']).toBe('identity_not_found');
    expect(String(out['message'])).toContain('only its system-assigned identity');
  });
});
