// Starts the local cloud on a data folder: the database, the CA and signing key (made at first
// start), the tenant, subscription, onboarding service principal and Arc gateway resource (made at
// first start), the HTTPS listener, the gateway's listener, and the files the agent reads (ca.pem,
// profile.json, connect.json, connect-gateway.json), rewritten at every start because ports may change.
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../core/index.ts';
import { compileTargets, formatTarget, type Target } from './gateway-target.ts';
import { buildApp, type CloudApp } from './app.ts';
import { advertisedEndpoints, gatewayPatterns, LOCAL_ONBOARDING_ENDPOINTS } from './gateway-endpoints.ts';
import { identifyPeer } from './gateway-decision.ts';
import { ensureDefaultGateway, gatewayConfig, gatewayHost, gatewayUrl } from './gateway-resource.ts';
import { createGatewayServer, type GatewayServer } from './gateway-server.ts';
import { resolveSettings, type CloudSettings, type LocalCloudOptions } from './options.ts';
import { loadPki } from './pki.ts';
import {
  connectConfig,
  connectGatewayConfig,
  LOCAL_DOMAIN,
  localAllow,
  localProfile,
  reachableAt,
  serverIpAddresses,
  serverNames,
} from './profile.ts';
import { openCloudStore, type CloudStore, type ServicePrincipal } from './store.ts';
import { createTokenIssuer } from './token-issuer.ts';

export interface LocalCloudFiles {
  database: string;
  ca: string;
  profile: string;
  connect: string;
  /** connect.json plus gateway-id and gateway-url: onboarding through the gateway. */
  connectGateway: string;
}

/** The cloud's Arc gateway: its resource and its listener. */
export interface LocalGateway {
  /** ARM id of the gateway resource (arc-local-gateway in arc-local-rg). */
  id: string;
  /** https://<guid>.gw.arc-local.test, the resource's gatewayEndpoint. */
  url: string;
  /** <guid>.gw.arc-local.test */
  host: string;
  /** The port the listener is on. */
  port: number;
  /** `address:port` where it listens (what profile.json's resolve maps `host` to). */
  address: string;
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
  gateway: LocalGateway;
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

function listen(gateway: GatewayServer, host: string, port: number): Promise<number> {
  return new Promise((resolveListen, reject) => {
    gateway.server.once('error', reject);
    gateway.server.listen(port, host, () => {
      gateway.server.off('error', reject);
      resolveListen((gateway.server.address() as AddressInfo).port);
    });
  });
}

/**
 * Where the gateway dials a target: the names it was told (gatewayResolve), the cloud's own names
 * (every name under arc-local.test is this cloud, on its main listener), anything else by DNS.
 */
function locator(s: CloudSettings, cloudAt: string): (t: Target) => Target {
  const colon = cloudAt.lastIndexOf(':');
  const cloud = {
    host: cloudAt.slice(0, colon).replace(/^\[|\]$/g, ''),
    port: Number(cloudAt.slice(colon + 1)),
  };
  return (t) => {
    const given = s.gatewayResolve[formatTarget(t)] ?? s.gatewayResolve[t.host];
    if (given) return given;
    if (t.host === LOCAL_DOMAIN || t.host.endsWith(`.${LOCAL_DOMAIN}`)) return cloud;
    return t;
  };
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
    connectGateway: join(dataDir, 'connect-gateway.json'),
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
      serverNames: [...new Set([...serverNames(s.host), ...serverNames(s.gatewayHost)])],
      ipAddresses: [...new Set([...serverIpAddresses(s.host), ...serverIpAddresses(s.gatewayHost)])],
      now: started,
    });
    const tokens = await createTokenIssuer(store, tenantId, started);
    const common = { store, tokens, now: s.now };
    const gw = ensureDefaultGateway(store, {
      subscriptionId,
      resourceGroup,
      location,
      at: started.toISOString(),
    });
    const patterns = gatewayPatterns(localAllow(), s.gatewayAllow);
    const advertised = advertisedEndpoints(patterns);
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
        gatewayOf: (machine) => gatewayConfig(store.machineGateway(machine), advertised),
      },
    });
    let gateway: GatewayServer | undefined;
    try {
      await app.listen({ port: s.port, host: s.host });
      const { port } = app.server.address() as AddressInfo;
      gateway = createGatewayServer({
        tls: { keyPem: pki.serverKeyPem, certPem: pki.serverCertPem, caPem: pki.caPem },
        gateway: { key: gw.key, id: gw.resourceId },
        identify: (cert) => identifyPeer(cert, { caCert: pki.caCert, store, now: s.now() }),
        served: compileTargets(patterns).set,
        onboarding: compileTargets(LOCAL_ONBOARDING_ENDPOINTS).set,
        locate: locator(s, reachableAt(s.host, port)),
        connectTimeoutMs: s.gatewayConnectTimeoutMs,
        idleTimeoutMs: s.gatewayIdleTimeoutMs,
        log: s.log.child({ component: 'gateway' }),
      });
      const gatewayPort = await listen(gateway, s.gatewayHost, s.gatewayPort);
      const localGateway: LocalGateway = {
        id: gw.resourceId,
        url: gatewayUrl(gw),
        host: gatewayHost(gw),
        port: gatewayPort,
        address: reachableAt(s.gatewayHost, gatewayPort),
      };
      await writeFileAtomic(files.ca, pki.caPem, 0o644);
      const profile = localProfile({
        host: s.host,
        port,
        caFile: files.ca,
        regions: s.regions,
        gateway: { host: localGateway.host, at: localGateway.address },
      });
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
      const connectGateway = connectGatewayConfig(connect, localGateway);
      await writeFileAtomic(files.connectGateway, `${JSON.stringify(connectGateway, null, 2)}\n`, 0o600);
      const host = s.host.includes(':') ? `[${s.host}]` : s.host;
      s.log.info(
        { port, gatewayPort, gateway: localGateway.id, dataDir, tenantId, subscriptionId },
        'arc-local-cloud ready',
      );
      const gatewayServer = gateway;
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
        gateway: localGateway,
        close: async () => {
          await gatewayServer.close();
          await app.close();
          store.close();
        },
      };
    } catch (err) {
      await gateway?.close();
      await app.close();
      throw err;
    }
  } catch (err) {
    store.close();
    throw err;
  }
}
