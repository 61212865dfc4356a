// HIMDS as a daemon of `azcmagent run`: the metadata and identity endpoint, and the heartbeat that
// keeps the machine Connected. A change to agentconfig.json (connect, disconnect) wakes the
// heartbeat at once instead of at the next interval. This module loads fastify: `run` imports it
// only when himds is among the services, so the Arc Proxy alone stays small.
import { existsSync, watch } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import { basename, dirname, join } from 'node:path';
import { generateKeyPair as generateKeyPairCb } from 'node:crypto';
import { promisify } from 'node:util';
import type { HomeLayout, Logger } from '../../core/index.ts';
import { VERSION } from '../../core/version.ts';
import { startHeartbeat } from './heartbeat.ts';
import { startHimds, type HimdsService } from './himds-service.ts';
import { identityStore } from './identity.ts';
import { collectMetadata, instanceFingerprint } from './metadata.ts';

const generateKeyPair = promisify(generateKeyPairCb);

export interface HimdsDaemonOptions {
  home: HomeLayout;
  log: Logger;
  /** The Arc Proxy every call to the cloud goes through. */
  proxyUrl: string;
  port: number;
  heartbeatIntervalMs?: number;
}

export interface HimdsDaemon {
  himds: HimdsService;
  stop(): Promise<void>;
}

export async function startHimdsDaemon(opts: HimdsDaemonOptions): Promise<HimdsDaemon> {
  const { home, log } = opts;
  const himds = await startHimds({ home, log, proxyUrl: opts.proxyUrl, port: opts.port });
  const heartbeat = startHeartbeat({
    home,
    log: log.child({ component: 'heartbeat' }),
    proxyUrl: opts.proxyUrl,
    agentVersion: VERSION,
    identity: identityStore(home),
    newKeyPair: async () => {
      const keys = await generateKeyPair('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
      return { privateKeyPem: keys.privateKey, publicKeyPem: keys.publicKey };
    },
    metadata: collectMetadata,
    fingerprint: instanceFingerprint,
    ...(opts.heartbeatIntervalMs ? { intervalMs: opts.heartbeatIntervalMs } : {}),
  });
  const name = basename(home.agentConfig);
  const watcher = watch(dirname(home.agentConfig), { persistent: false }, (_event, file) => {
    if (file !== name) return;
    // Only a connect (the file appears) is worth a beat now; our own heartbeat writes are not.
    const now = existsSync(home.agentConfig);
    if (now && !connected) heartbeat.poke();
    connected = now;
  });
  let connected = existsSync(home.agentConfig);
  // The CLI asks running services how they are over <home>/socks/<service>.sock (`show`).
  const socket = join(home.socks, 'himds.sock');
  await rm(socket, { force: true });
  const health = http.createServer((req, res) => {
    const ok = req.method === 'GET' && req.url === '/health';
    res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        ok
          ? { status: 'ok', port: himds.address.port, heartbeats: heartbeat.attempts }
          : { error: 'not_found' },
      ),
    );
  });
  await new Promise<void>((resolve, reject) => health.once('error', reject).listen(socket, resolve));
  return {
    himds,
    async stop() {
      await new Promise<void>((resolve) => health.close(() => resolve()));
      await rm(socket, { force: true });
      watcher.close();
      await heartbeat.stop();
      await himds.stop();
    },
  };
}
