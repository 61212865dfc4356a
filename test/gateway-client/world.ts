// A world for gateway tests: the local cloud with its real Arc gateway (port 0), origins the gateway
// serves under test names (it resolves them itself), machines registered with the cloud and, when
// asked, associated with the gateway through ARM; and a TLS-inspecting box with its own CA to put
// between the agent and the gateway.
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { certStore } from '../../certs/index.ts';
import {
  ensureHome,
  loadCloudProfile,
  resolveHome,
  writeCloudConfig,
  writeLocalConfig,
  type CloudConfig,
  type CloudProfile,
  type HomeLayout,
  type LocalConfig,
} from '../../core/index.ts';
import { parseGateway, type ClientIdentity, type Gateway } from '../../gateway-client/index.ts';
import { adminSocket, startArcProxyService, type ArcProxyService } from '../../proxy/index.ts';
import { createAndRegister, startTestCloud, type Registered, type TestCloud } from '../cloud/helpers.ts';
import { closeServer, listen, makePki, memoryLogger, tempDir } from '../helpers/world.ts';

export interface GatewayWorld {
  t: TestCloud;
  gateway: Gateway;
  /** The Local profile the cloud wrote: resolve map (gateway host included) and caFile. */
  profile: CloudProfile;
  /** The profile's resolve map, with the gateway's host. */
  resolve: Record<string, string>;
  /** The cloud's CA: the gateway's certificate chains to it. */
  ca: string;
  /** cloudconfig.json as the cloud would give it, serving `extraEndpoints` too. */
  cloudConfig(extraEndpoints?: string[]): { gateway: { id: string; url: string; endpoints: string[] } };
  /** A machine registered with the cloud (not associated with the gateway). */
  machine(name: string): Promise<Registered & { identity: ClientIdentity }>;
  /** PUT settings/default of the machine with this gateway (or none). */
  associate(m: Registered, gatewayId: string | null): Promise<void>;
  close(): Promise<void>;
}

/**
 * `names` are test names (e.g. `origin.test`) mapped to loopback ports: the gateway serves
 * `name:port` and resolves the name to 127.0.0.1:port itself, as a real gateway resolves public names.
 * `allow` adds patterns it serves without resolving them (its DNS then has the say).
 */
export async function startGatewayWorld(
  names: Record<string, number> = {},
  opts: { allow?: string[] } = {},
): Promise<GatewayWorld> {
  const t = await startTestCloud({
    gatewayAllow: [...Object.entries(names).map(([host, port]) => `${host}:${port}`), ...(opts.allow ?? [])],
    gatewayResolve: Object.fromEntries(
      Object.entries(names).map(([host, port]) => [host, `127.0.0.1:${port}`]),
    ),
  });
  const gateway = parseGateway({ id: t.cloud.gateway.id, url: t.cloud.gateway.url });
  if (!gateway) throw new Error(`the cloud's gateway URL is not usable: ${t.cloud.gateway.url}`);
  const profile = await loadCloudProfile(t.cloud.files.profile);
  const resolve = { ...profile.resolve };
  const token = () => t.spToken();
  return {
    t,
    gateway,
    profile,
    resolve,
    ca: t.cloud.caPem,
    cloudConfig: (extra = []) => ({
      gateway: {
        id: gateway.id,
        url: gateway.url,
        endpoints: [
          ...profile.allow.map((e) => `${e.host}:${e.port}`),
          ...Object.entries(names).map(([h, p]) => `${h}:${p}`),
          ...extra,
        ],
      },
    }),
    async machine(name) {
      const m = await createAndRegister(t, name);
      return { ...m, identity: { certPem: m.cert, keyPem: m.keys.privateKeyPem } };
    },
    async associate(m, gatewayId) {
      const path = `${m.id}/providers/Microsoft.HybridCompute/settings/default?api-version=2024-11-10-preview`;
      const a = await t.call(path, {
        method: 'PUT',
        headers: { authorization: `Bearer ${await token()}` },
        body: { properties: { gatewayProperties: { gatewayResourceId: gatewayId } } },
      });
      if (a.status !== 200 && a.status !== 201) throw new Error(`settings/default: ${a.status} ${a.text}`);
    },
    close: () => t.close(),
  };
}

export interface InspectingBox {
  port: number;
  /** The inspecting CA's subject, as the agent should name it. */
  caName: string;
  /** Plaintext the box read from clients after terminating their TLS. */
  seen: () => string;
  close(): Promise<void>;
}

/**
 * A TLS-terminating middlebox with its own CA (made with openssl now): it presents a certificate for
 * `hosts` issued by "Corp Inspection CA", and relays what it decrypts to `upstream` over a new TLS
 * session that trusts `upstreamCa`, the way an inspecting enterprise firewall does.
 */
export async function startInspectingBox(opts: {
  hosts: string[];
  upstream: { host: string; port: number; servername: string };
  upstreamCa: string;
}): Promise<InspectingBox> {
  const caName = 'Corp Inspection CA';
  const pki = makePki({ caSubject: `/O=Contoso/CN=${caName}`, hosts: opts.hosts });
  let seen = '';
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    { key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) },
    (client) => {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      client.on('error', () => {});
      client.on('data', (d: Buffer) => (seen += d.toString('latin1')));
      const up = tls.connect({
        host: opts.upstream.host,
        port: opts.upstream.port,
        servername: opts.upstream.servername,
        ca: opts.upstreamCa,
      });
      up.on('error', () => client.destroy());
      client.pipe(up).pipe(client);
    },
  );
  server.on('tlsClientError', () => {});
  const port = await listen(server);
  return {
    port,
    caName,
    seen: () => seen,
    close: () => {
      for (const s of sockets) s.destroy();
      return closeServer(server);
    },
  };
}

export interface AgentProxy {
  service: ArcProxyService;
  home: HomeLayout;
  port: number;
  /** The proxy URL a client named `client` uses. */
  url: (client?: string) => string;
  lines: () => string;
  /** Rewrites localconfig.json (the service watches it). */
  setConfig(config: Partial<LocalConfig>): Promise<void>;
  setCloudConfig(config: CloudConfig): Promise<void>;
  /** Stores a machine identity in the home, as connect does. */
  saveIdentity(identity: ClientIdentity): Promise<void>;
  /** GET /health on the admin socket, as connect and show ask it. */
  health(): Promise<{ gateway: string | null } & Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * The Arc Proxy as `azcmagent run` starts it, in a fresh home: localconfig.json, cloudconfig.json
 * and (when given) the machine identity in <home>/certs/, and the local cloud's profile with
 * `resolve` entries added (where the proxy itself finds test names, or a different gateway address).
 */
export async function startAgentProxy(
  w: GatewayWorld,
  opts: {
    config?: Partial<LocalConfig>;
    cloudConfig?: CloudConfig;
    identity?: ClientIdentity;
    resolve?: Record<string, string>;
  } = {},
): Promise<AgentProxy> {
  const home = resolveHome(tempDir('azcm-gw-home-'), {});
  await ensureHome(home);
  const profilePath = join(home.root, 'profile.json');
  writeFileSync(profilePath, JSON.stringify({ ...w.profile, resolve: { ...w.resolve, ...opts.resolve } }));
  await writeLocalConfig(home.localConfig, opts.config ?? {});
  await writeCloudConfig(home.cloudConfig, opts.cloudConfig ?? w.cloudConfig());
  const saveIdentity = (identity: ClientIdentity) =>
    certStore(home).saveMachineIdentity({ keyPem: identity.keyPem, certPem: identity.certPem, caPem: w.ca });
  if (opts.identity) await saveIdentity(opts.identity);
  const { log, lines } = memoryLogger();
  const service = await startArcProxyService({ home, log, port: 0, cloud: profilePath, env: {} });
  const port = service.address.port;
  return {
    service,
    home,
    port,
    url: (client = 'himds') => `http://${client}@127.0.0.1:${port}`,
    lines,
    setConfig: (config) => writeLocalConfig(home.localConfig, config),
    setCloudConfig: (config) => writeCloudConfig(home.cloudConfig, config),
    saveIdentity,
    health: () =>
      new Promise((resolve, reject) => {
        http
          .get({ socketPath: adminSocket(home), path: '/health' }, (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve(JSON.parse(text) as { gateway: string | null }));
          })
          .on('error', reject);
      }),
    close: () => service.stop(100),
  };
}

/** An HTTP origin (world.ts's) that also records the bytes each of its connections read and wrote. */
export function countBytes(server: net.Server): { connections: () => { read: number; written: number }[] } {
  const done: { read: number; written: number }[] = [];
  server.on('connection', (s: net.Socket) =>
    s.once('close', () => done.push({ read: s.bytesRead, written: s.bytesWritten })),
  );
  return { connections: () => [...done] };
}
