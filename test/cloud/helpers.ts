// A local cloud in-process for tests: a temporary data folder, port 0 on 127.0.0.1, a clock the
// test moves, a log kept in memory, and an HTTPS client that trusts only the cloud's CA and can
// present a client certificate. Every call is a real TLS connection.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../core/index.ts';
import { startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../../cloud/index.ts';
import { generateKeyPair, type KeyPair } from '../../certs/index.ts';

export const tempDir = (prefix = 'arc-cloud-test-'): string => mkdtempSync(join(tmpdir(), prefix));

export interface Clock {
  now: () => Date;
  advance(ms: number): void;
}

/** Starts at the current second (certificates carry whole seconds), and moves only when told. */
export function testClock(start = Math.floor(Date.now() / 1000) * 1000): Clock {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => void (t += ms) };
}

export const MINUTE = 60_000;
export const DAY = 86_400_000;

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed body: tests assert on it rather than trust it, hence loosely typed. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  form?: Record<string, string>;
  /** TLS client certificate and key (PEM). */
  cert?: string;
  key?: string;
  /** The name sent as SNI and Host (default: the profile's host for the path). */
  host?: string;
}

export interface TestCloud {
  cloud: LocalCloud;
  clock: Clock;
  dataDir: string;
  logLines: () => string;
  connect: Record<string, string>;
  call(path: string, opts?: CallOptions): Promise<Answer>;
  /** A client-credentials token of the onboarding service principal for `resource`. */
  spToken(resource?: string): Promise<string>;
  close(): Promise<void>;
}

const hostFor = (path: string) =>
  path.startsWith('/v1/')
    ? 'gbl.his.arc-local.test'
    : path.startsWith('/subscriptions')
      ? 'management.arc-local.test'
      : 'login.arc-local.test';

export function httpsCall(port: number, ca: string, path: string, opts: CallOptions = {}): Promise<Answer> {
  const host = opts.host ?? hostFor(path);
  let payload: string | undefined;
  const headers: Record<string, string> = { host, ...opts.headers };
  if (opts.form) {
    payload = new URLSearchParams(opts.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else if (opts.body !== undefined) {
    payload = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? (payload === undefined ? 'GET' : 'POST'),
        servername: host,
        ca,
        ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
        headers,
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export async function startTestCloud(opts: Partial<LocalCloudOptions> = {}): Promise<TestCloud> {
  const dataDir = opts.dataDir ?? tempDir();
  const clock = testClock();
  const chunks: string[] = [];
  const log = createLogger({
    name: 'cloud-test',
    level: 'debug',
    destination: { write: (s: string) => void chunks.push(s) },
  });
  const cloud = await startLocalCloud({ port: 0, now: clock.now, log, ...opts, dataDir });
  const connect = JSON.parse(readFileSync(cloud.files.connect, 'utf8')) as Record<string, string>;
  const call = (path: string, o?: CallOptions) => httpsCall(cloud.port, cloud.caPem, path, o);
  return {
    cloud,
    clock,
    dataDir,
    logLines: () => chunks.join(''),
    connect,
    call,
    async spToken(resource = 'https://management.arc-local.test') {
      const a = await call(`/${connect['tenant-id']}/oauth2/v2.0/token`, {
        form: {
          grant_type: 'client_credentials',
          client_id: connect['service-principal-id']!,
          client_secret: connect['service-principal-secret']!,
          scope: `${resource}/.default`,
        },
      });
      if (a.status !== 200) throw new Error(`token: ${a.status} ${a.text}`);
      return (a.json as { access_token: string }).access_token;
    },
    close: () => cloud.close(),
  };
}

/** The ARM id and URL path of a machine in the cloud's subscription. */
export function machinePath(t: TestCloud, name: string, group = 'rg1', apiVersion = '2024-07-10') {
  const id = `/subscriptions/${t.cloud.subscriptionId}/resourceGroups/${group}/providers/Microsoft.HybridCompute/machines/${name}`;
  return { id, path: `${id}?api-version=${apiVersion}` };
}

export interface Registered {
  id: string;
  keys: KeyPair;
  cert: string;
  fingerprint: string;
  /** The register answer, as the wire gave it. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  answer: any;
}

/** Creates the machine through ARM and registers a fresh key for it; returns its identity. */
export async function createAndRegister(
  t: TestCloud,
  name: string,
  opts: { fingerprint?: string; metadata?: Record<string, unknown>; group?: string } = {},
): Promise<Registered> {
  const token = await t.spToken();
  const { id, path } = machinePath(t, name, opts.group);
  const auth = { authorization: `Bearer ${token}` };
  const put = await t.call(path, {
    method: 'PUT',
    headers: auth,
    body: { location: 'eastus', identity: { type: 'SystemAssigned' } },
  });
  if (put.status !== 201 && put.status !== 200) throw new Error(`PUT: ${put.status} ${put.text}`);
  const keys = await generateKeyPair();
  const fingerprint = opts.fingerprint ?? `fp-${name}`;
  const reg = await t.call('/v1/machines/register', {
    headers: auth,
    body: { resourceId: id, publicKey: keys.publicKeyPem, fingerprint, metadata: opts.metadata ?? {} },
  });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${reg.text}`);
  return { id, keys, cert: reg.json.certificate, fingerprint, answer: reg.json };
}

/** A heartbeat with the machine's certificate. */
export const heartbeat = (t: TestCloud, m: Registered, body: Record<string, unknown> = {}) =>
  t.call('/v1/machines/heartbeat', {
    cert: m.cert,
    key: m.keys.privateKeyPem,
    body: { fingerprint: m.fingerprint, agentVersion: '0.1.0', time: t.clock.now().toISOString(), ...body },
  });
