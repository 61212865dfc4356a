// A HIMDS world on loopback for tests: a home folder, a connected machine, the real Arc Proxy and a
// test cloud behind it (test-cloud.ts), HIMDS on port 0, and the client side of the key-file
// challenge done by hand as the documentation describes it.
import { chmod, readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { resolveHome, writeAgentState, type AgentState, type HomeLayout } from '../../../core/index.ts';
import { machineResourceId, type MachineMetadata } from '../../../services/himds/server.ts';
import {
  startHimds,
  type HimdsService,
  type HimdsServiceOptions,
  type TokenSource,
  type UpstreamToken,
} from '../../../services/himds/server.ts';
import { memoryLogger, startProxy, tempDir, type TestProxy } from '../../helpers/world.ts';
import { startTestCloud, type CloudForTests, type EnrolledMachine, type TestCloud } from './test-cloud.ts';

export const API = 'api-version=2020-06-01';
export const TOKEN = '/metadata/identity/oauth2/token';

/** A home folder that other local users may traverse (the tokens folder keeps its own 0750). */
export async function newHome(): Promise<HomeLayout> {
  const dir = tempDir('azcm-himds-');
  await chmod(dir, 0o755);
  return resolveHome(dir, {});
}

export const machineFacts = (): Promise<MachineMetadata> =>
  Promise.resolve({
    osName: 'Ubuntu',
    osVersion: '24.04',
    osType: 'linux',
    kernel: '6.8.0',
    hostname: 'host1',
    fqdn: 'host1.example.test',
    manufacturer: undefined,
    model: undefined,
    cpu: { logicalCores: 2, model: undefined },
    memoryMiB: 2048,
    networkInterfaces: [],
    detected: { mssql: false, mysql: false, postgresql: false },
  });

/** agentconfig.json of a connected machine, without a cloud behind it (for a token source of the test's own). */
export async function connect(home: HomeLayout, state: Partial<AgentState> = {}): Promise<AgentState> {
  const resourceId = machineResourceId('00000000-0000-0000-0000-000000000001', 'rg1', 'host1');
  const full: AgentState = {
    resourceName: 'host1',
    resourceGroup: 'rg1',
    subscriptionId: '00000000-0000-0000-0000-000000000001',
    tenantId: '00000000-0000-0000-0000-0000000000aa',
    location: 'westeurope',
    cloud: 'AzureCloud',
    resourceId,
    vmId: '11111111-2222-3333-4444-555555555555',
    status: 'Connected',
    certificateNotAfter: new Date(Date.now() + 90 * 86_400_000).toISOString(),
    ...state,
  };
  await writeAgentState(home.agentConfig, full);
  return full;
}

/** An in-process token source that signs JWTs, counts its calls and can be told to fail. */
export interface FakeTokenSource extends TokenSource {
  calls: string[];
  lifetimeSeconds: number;
  clientId: string;
  objectId: string;
  fail: Error | undefined;
  jwks: { keys: JWK[] };
}

export async function fakeTokenSource(now: () => Date = () => new Date()): Promise<FakeTokenSource> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = await exportJWK(publicKey);
  const source: FakeTokenSource = {
    calls: [],
    lifetimeSeconds: 3600,
    clientId: randomUUID(),
    objectId: randomUUID(),
    fail: undefined,
    jwks: { keys: [{ ...jwk, kid: 'k1', alg: 'RS256' }] },
    async getToken({ resource }): Promise<UpstreamToken> {
      source.calls.push(resource);
      if (source.fail) throw source.fail;
      const iat = Math.floor(now().getTime() / 1000);
      const accessToken = await new SignJWT({ oid: source.objectId, appid: source.clientId })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setAudience(resource)
        .setIssuedAt(iat)
        .setExpirationTime(iat + source.lifetimeSeconds)
        .sign(privateKey);
      return {
        accessToken,
        expiresOn: iat + source.lifetimeSeconds,
        notBefore: iat,
        tokenType: 'Bearer',
        clientId: source.clientId,
        objectId: source.objectId,
      };
    },
  };
  return source;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export async function get(
  url: string,
  headers: Record<string, string> = { Metadata: 'true' },
): Promise<Answer> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** The realm path of a 401's WWW-Authenticate, as clients read it (the text after `Basic realm=`). */
export const realmPath = (a: Answer): string =>
  (a.headers.get('www-authenticate') ?? '').split('Basic realm=')[1] ?? '';

/** The documented two steps: a request without Authorization, then again with the key file's contents. */
export async function tokenFlow(
  baseUrl: string,
  query: string,
): Promise<{ challenge: Answer; answer: Answer; secret: string }> {
  const url = `${baseUrl}${TOKEN}?${query}`;
  const challenge = await get(url);
  if (challenge.status !== 401) return { challenge, answer: challenge, secret: '' };
  const secret = await readFile(realmPath(challenge), 'utf8');
  const answer = await get(url, { Metadata: 'true', Authorization: `Basic ${secret}` });
  return { challenge, answer, secret };
}

/** HIMDS on port 0 in a fresh home, with a token source of the test's own and fixed machine facts. */
export async function startTestHimds(
  opts: Partial<HimdsServiceOptions> & { connected?: Partial<AgentState> | false } = {},
): Promise<{
  himds: HimdsService;
  home: HomeLayout;
  state: AgentState | undefined;
  lines: () => string;
  source: TokenSource;
}> {
  const home = opts.home ?? (await newHome());
  const state = opts.connected === false ? undefined : await connect(home, opts.connected ?? {});
  const { log, lines } = memoryLogger('debug');
  const source = opts.tokenSource ?? (await fakeTokenSource(opts.now));
  const himds = await startHimds({
    log,
    collectMetadata: machineFacts,
    ...opts,
    home,
    tokenSource: source,
    port: 0,
  });
  return { himds, home, state, lines, source };
}

/**
 * The whole path: HIMDS with its default token source, through the real Arc Proxy, to a cloud: the
 * test cloud by default, or the real local cloud with `startLocalCloudForTests` (local-cloud.ts).
 */
export interface CloudWorld<C extends CloudForTests = TestCloud> {
  himds: HimdsService;
  home: HomeLayout;
  cloud: C;
  proxy: TestProxy;
  machine: EnrolledMachine;
  lines: () => string;
  close(): Promise<void>;
}

export async function startCloudWorld<C extends CloudForTests = TestCloud>(
  opts: Partial<HimdsServiceOptions> = {},
  startCloud: () => Promise<C> = startTestCloud as unknown as () => Promise<C>,
): Promise<CloudWorld<C>> {
  const cloud = await startCloud();
  const proxy = await startProxy({ cloud: cloud.profile });
  const home = await newHome();
  const machine = await cloud.enroll(home);
  const { log, lines } = memoryLogger('debug');
  const himds = await startHimds({
    log,
    collectMetadata: machineFacts,
    ...opts,
    home,
    proxyUrl: proxy.url,
    port: 0,
  });
  return {
    himds,
    home,
    cloud,
    proxy,
    machine,
    lines,
    async close() {
      if (himds.app.server.listening) await himds.stop();
      await proxy.close();
      await cloud.close();
    },
  };
}
