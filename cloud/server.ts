// Starts the local cloud on a data folder: the database, the CA and signing key (made at first
// start), the tenant, subscription and onboarding service principal (made at first start), the
// HTTPS listener, and the files the agent reads (ca.pem, profile.json, connect.json), rewritten at
// every start because the port may change.
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../core/index.ts';
import { buildApp, type CloudApp } from './app.ts';
import { resolveSettings, type LocalCloudOptions } from './options.ts';
import { loadPki } from './pki.ts';
import { connectConfig, localProfile, serverIpAddresses, serverNames } from './profile.ts';
import { openCloudStore, type CloudStore, type ServicePrincipal } from './store.ts';
import { createTokenIssuer } from './token-issuer.ts';

export interface LocalCloudFiles {
  database: string;
  ca: string;
  profile: string;
  connect: string;
}

export interface LocalCloud {
  app: CloudApp;
  /** https://<address>:<port>, the listener itself (every profile host resolves here). */
  url: string;
  host: string;
  port: number;
  files: LocalCloudFiles;
  tenantId: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  /** The onboarding service principal's client id (its secret is in connect.json only). */
  clientId: string;
  caPem: string;
  close(): Promise<void>;
}

/** A value kept in the database's meta table, made on first use. */
function remembered(store: CloudStore, key: string, make: () => string): string {
  let value = store.getMeta(key);
  if (value === undefined) {
    value = make();
    store.setMeta(key, value);
  }
  return value;
}

function onboardingPrincipal(store: CloudStore, at: string): ServicePrincipal {
  const existing = store.listServicePrincipals()[0];
  if (existing) return existing;
  const sp: ServicePrincipal = {
    clientId: randomUUID(),
    objectId: randomUUID(),
    // Shaped like an Entra secret: 40 URL-safe characters.
    secret: randomBytes(30).toString('base64url'),
    displayName: 'arc-local-onboarding',
    createdAt: at,
  };
  store.addServicePrincipal(sp);
  return sp;
}

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const s = resolveSettings(options);
  const dataDir = resolve(s.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  const files: LocalCloudFiles = {
    database: join(dataDir, 'cloud.db'),
    ca: join(dataDir, 'ca.pem'),
    profile: join(dataDir, 'profile.json'),
    connect: join(dataDir, 'connect.json'),
  };
  const store = openCloudStore(files.database);
  try {
    const started = s.now();
    const tenantId = remembered(store, 'tenantId', randomUUID);
    const subscriptionId = remembered(store, 'subscriptionId', randomUUID);
    const resourceGroup = remembered(store, 'resourceGroup', () => 'arc-local-rg');
    const location = remembered(store, 'location', () => s.regions[0] ?? 'eastus');
    const sp = onboardingPrincipal(store, started.toISOString());
    const pki = await loadPki(store, {
      serverNames: serverNames(s.host),
      ipAddresses: serverIpAddresses(s.host),
      now: started,
    });
    const tokens = await createTokenIssuer(store, tenantId, started);
    const common = { store, tokens, now: s.now };
    const app = buildApp({
      log: s.log,
      tls: { keyPem: pki.serverKeyPem, certPem: pki.serverCertPem, caPem: pki.caPem },
      login: { ...common, tokenLifetimeSeconds: s.tokenLifetimeSeconds },
      arm: {
        ...common,
        subscriptionId,
        regions: s.regions,
        pageSize: s.pageSize,
        disconnectAfterMs: s.disconnectAfterMs,
      },
      identity: {
        ...common,
        caPem: pki.caPem,
        caKey: pki.caKey,
        caCert: pki.caCert,
        certDays: s.certDays,
        renewDays: s.renewDays,
        heartbeatIntervalSeconds: s.heartbeatIntervalSeconds,
        identityTokenLifetimeSeconds: s.identityTokenLifetimeSeconds,
        disconnectAfterMs: s.disconnectAfterMs,
      },
    });
    try {
      await app.listen({ port: s.port, host: s.host });
      const { port } = app.server.address() as AddressInfo;
      await writeFileAtomic(files.ca, pki.caPem, 0o644);
      const profile = localProfile({ host: s.host, port, caFile: files.ca, regions: s.regions });
      await writeFileAtomic(files.profile, `${JSON.stringify(profile, null, 2)}\n`, 0o644);
      const connect = connectConfig({
        clientId: sp.clientId,
        secret: sp.secret,
        tenantId,
        subscriptionId,
        resourceGroup,
        location,
        profilePath: files.profile,
      });
      await writeFileAtomic(files.connect, `${JSON.stringify(connect, null, 2)}\n`, 0o600);
      const host = s.host.includes(':') ? `[${s.host}]` : s.host;
      s.log.info({ port, dataDir, tenantId, subscriptionId }, 'arc-local-cloud ready');
      return {
        app,
        url: `https://${host}:${port}`,
        host: s.host,
        port,
        files,
        tenantId,
        subscriptionId,
        resourceGroup,
        location,
        clientId: sp.clientId,
        caPem: pki.caPem,
        close: async () => {
          await app.close();
          store.close();
        },
      };
    } catch (err) {
      await app.close();
      throw err;
    }
  } catch (err) {
    store.close();
    throw err;
  }
}
