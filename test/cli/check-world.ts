// What the `azcmagent check` tests share: the local cloud as a process, copies of its profile with
// other endpoints to probe, agent homes with a given localconfig.json / cloudconfig.json, a port that
// refuses, a TLS server with a CA of its own (an inspecting proxy's), and the CLI run on them.
import https from 'node:https';
import net from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, generateKeyPair, issueCertificate } from '../../certs/index.ts';
import type { reportJson } from '../../cli/check/index.ts';
import { startCloudProcess, type CloudProcess } from '../cloud/bin.ts';
import { azcmagent } from '../helpers/cli.ts';
import { closeServer, listen, tempDir } from '../helpers/world.ts';

export interface CheckCloud {
  proc: CloudProcess;
  dataDir: string;
  profilePath: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  profile: Record<string, any>;
  /** Where every profile host resolves: the cloud's listener. */
  at: string;
  port: number;
  stop(): Promise<unknown>;
}

export async function startCheckCloud(): Promise<CheckCloud> {
  const dataDir = tempDir('azcm-check-cloud-');
  const proc = await startCloudProcess(['--data', dataDir, '--port', '0', '--gateway-port', '0']);
  const profilePath = join(dataDir, 'profile.json');
  const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as CheckCloud['profile'];
  return {
    proc,
    dataDir,
    profilePath,
    profile,
    at: `127.0.0.1:${proc.port}`,
    port: proc.port,
    stop: () => proc.stop(),
  };
}

/** A copy of the cloud's profile with `patch` applied on top; returns its path. */
export function writeProfile(cloud: CheckCloud, patch: Record<string, unknown>): string {
  const path = join(tempDir('azcm-check-profile-'), 'profile.json');
  const resolve = { ...cloud.profile['resolve'], ...(patch['resolve'] as object | undefined) };
  writeFileSync(path, JSON.stringify({ ...cloud.profile, ...patch, resolve }));
  return path;
}

/** An agent home holding the given localconfig.json and cloudconfig.json. */
export function writeHome(localConfig?: Record<string, unknown>, cloudConfig?: unknown): string {
  const home = tempDir('azcm-check-home-');
  if (localConfig) writeFileSync(join(home, 'localconfig.json'), JSON.stringify(localConfig));
  if (cloudConfig) writeFileSync(join(home, 'cloudconfig.json'), JSON.stringify(cloudConfig));
  return home;
}

export interface CheckRun {
  code: number;
  stdout: string;
  stderr: string;
}

export const runCheck = (home: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CheckRun> =>
  azcmagent(['check', '--home', home, ...args], env);

/** The -j document of a run, typed as the CLI builds it. */
export type CheckJson = ReturnType<typeof reportJson>;
export const reportOf = (run: CheckRun): CheckJson => JSON.parse(run.stdout) as CheckJson;

/** A port on 127.0.0.1 where nothing listens (it did a moment ago, so nothing else took it yet). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

export interface TlsStub {
  port: number;
  /** The CA that issued the stub's certificate, PEM. */
  caPem: string;
  close(): Promise<void>;
}

/**
 * An HTTPS server whose certificate (for `names`) comes from a CA of its own, named `caName`: what a
 * TLS-inspecting proxy presents. `date` sets the Date header it answers with.
 */
export async function startTlsStub(
  caName: string,
  names: string[],
  opts: { date?: () => Date } = {},
): Promise<TlsStub> {
  const ca = await createCa(caName, 2);
  const keys = await generateKeyPair();
  const cert = await issueCertificate({
    ca: ca.certPem,
    caKey: ca.privateKey,
    subjectPublicKey: keys.publicKey,
    subject: `CN=${names[0] ?? 'localhost'}`,
    days: 1,
    serverNames: names,
    serverAuth: true,
  });
  const server = https.createServer({ key: keys.privateKeyPem, cert }, (req, res) => {
    if (opts.date) res.sendDate = false;
    res.writeHead(200, {
      'content-type': 'text/plain',
      ...(opts.date ? { date: opts.date().toUTCString() } : {}),
    });
    res.end('stub\n');
  });
  const port = await listen(server);
  return { port, caPem: ca.certPem, close: () => closeServer(server) };
}
