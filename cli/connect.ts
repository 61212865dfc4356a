// `azcmagent connect`: network pre-check through the Arc Proxy, a token, the ARM machine resource,
// then the machine identity (key pair here, certificate from the identity service), then
// agentconfig.json. Each failure exits with the real agent's code and says what to do.
// With --gateway-id the machine onboards through an Arc gateway and is associated with it; the
// sequence is in services/himds/gateway-onboarding.ts.
import type { Command } from 'commander';
import { hostname } from 'node:os';
import {
  AgentError,
  nodeCrypto,
  readAgentState,
  readLocalConfig,
  resolveHome,
  writeAgentState,
  type CloudConfig,
  type HomeLayout,
} from '../core/index.ts';
import { VERSION } from '../core/version.ts';
import {
  armTokenFromSecret,
  associateMachineWithGateway,
  collectMetadata,
  createMachine,
  deleteMachine,
  gatewayFlags,
  getGateway,
  instanceFingerprint,
  machineResourceId,
  provisionalCloudConfig,
  putCloudConfig,
  registerIdentity,
  removeMachineIdentity,
  restoreCloudConfig,
  saveMachineIdentity,
  snapshotCloudConfig,
  waitForProxyGateway,
  type GatewayChoice,
} from '../services/himds/index.ts';
import { precheckNetwork } from './check/index.ts';
import { openCloudSession, type CloudSession } from './cloud-session.ts';
import { fail, printJson, type GlobalOptions } from './output.ts';
import { askService } from './service-status.ts';

interface ConnectOptions extends GlobalOptions {
  subscriptionId?: string;
  resourceGroup?: string;
  location?: string;
  resourceName?: string;
  cloud: string;
  tags?: string;
  tenantId?: string;
  servicePrincipalId?: string;
  servicePrincipalSecret?: string;
  accessToken?: string;
  correlationId?: string;
  ignoreNetworkCheck?: boolean;
  gatewayId?: string;
  gatewayUrl?: string;
}

export function registerConnect(program: Command): void {
  program
    .command('connect')
    .description('connect this machine to Azure Arc (creates the machine resource and its identity)')
    .option('-s, --subscription-id <id>', 'subscription of the machine resource')
    .option('-g, --resource-group <name>', 'resource group of the machine resource')
    .option('-l, --location <region>', 'Azure region, e.g. eastus')
    .option('-n, --resource-name <name>', 'name of the machine resource (default: the hostname)')
    .option(
      '--cloud <cloud>',
      'AzureCloud, AzureUSGovernment, AzureChinaCloud, or a cloud profile file',
      'AzureCloud',
    )
    .option('--tags <tags>', 'comma-separated Name=Value pairs')
    .option('-t, --tenant-id <id>', 'tenant of the subscription')
    .option('-i, --service-principal-id <id>', 'service principal (application) id')
    .option('-p, --service-principal-secret <secret>', 'service principal secret (prefer a --config file)')
    .option('--access-token <token>', 'an Entra access token for ARM, instead of a service principal')
    .option('--correlation-id <guid>', 'a GUID that tracks this onboarding in telemetry')
    .option('--ignore-network-check', 'connect even when the network pre-check fails')
    .option('--gateway-id <id>', 'ARM id of the Arc gateway to onboard through and associate with')
    .option(
      '--gateway-url <url>',
      "the gateway's endpoint (https://...), when ARM can be reached only through the gateway",
    )
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<ConnectOptions>();
      try {
        await connect(opts);
      } catch (err) {
        fail(err, opts.json);
      }
    });
}

function required(opts: ConnectOptions): {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  tenantId: string;
} {
  const missing = (
    [
      ['subscriptionId', '--subscription-id'],
      ['resourceGroup', '--resource-group'],
      ['location', '--location'],
      ['tenantId', '--tenant-id'],
    ] as const
  ).filter(([k]) => !opts[k]);
  if (missing.length > 0)
    throw new AgentError('MISSING_PARAMETER', missing.map(([, flag]) => flag).join(', '));
  if (!opts.accessToken && !(opts.servicePrincipalId && opts.servicePrincipalSecret)) {
    throw new AgentError(
      'MISSING_PARAMETER',
      '--service-principal-id with --service-principal-secret, or --access-token',
    );
  }
  return opts as Required<Pick<ConnectOptions, 'subscriptionId' | 'resourceGroup' | 'location' | 'tenantId'>>;
}

export function parseTags(text: string | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  if (!text) return tags;
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim().replace(/^'|'$/g, '');
    if (eq <= 0 || !name) throw new AgentError('ARGUMENT_INVALID', `--tags: "${pair}" is not Name=Value`);
    tags[name] = pair
      .slice(eq + 1)
      .trim()
      .replace(/^'|'$/g, '');
  }
  return tags;
}

async function connect(opts: ConnectOptions): Promise<void> {
  const home = resolveHome(opts.home, process.env);
  const existing = await readAgentState(home.agentConfig);
  if (existing) throw new AgentError('AGENT_ALREADY_CONNECTED', existing.resourceId);
  const { subscriptionId, resourceGroup, location, tenantId } = required(opts);
  const gateway = gatewayFlags(opts.gatewayId, opts.gatewayUrl);
  if (gateway) await refuseDirect(home);
  const tags = parseTags(opts.tags);
  const resourceName = opts.resourceName ?? hostname();
  const session = await openCloudSession(home, opts.cloud);
  // A failed gateway onboarding leaves cloudconfig.json as it found it.
  const before = gateway ? await snapshotCloudConfig(home) : undefined;
  let connected = false;
  try {
    const regions = session.cloud.regions;
    if (regions && !regions.includes(location.toLowerCase())) {
      throw new AgentError('UNKNOWN_REGION', `${location} is not a region of ${session.cloud.name}`);
    }
    let token: string | undefined;
    const armToken = async () =>
      (token ??=
        opts.accessToken ??
        (await armTokenFromSecret({
          ...session,
          tenantId,
          clientId: opts.servicePrincipalId!,
          clientSecret: opts.servicePrincipalSecret!,
        })));
    if (gateway) await routeThroughGateway(home, session, gateway, armToken);
    await precheckNetwork({
      home,
      cloud: session.cloud,
      region: location.toLowerCase(),
      arcProxyUrl: session.proxyUrl,
      ignore: opts.ignoreNetworkCheck === true,
    });
    const id = machineResourceId(subscriptionId, resourceGroup, resourceName);
    const metadata = await collectMetadata();
    const machine = await createMachine({
      ...session,
      token: await armToken(),
      id,
      location: location.toLowerCase(),
      tags,
      properties: {
        agentVersion: VERSION,
        osName: metadata.osName,
        osVersion: metadata.osVersion,
        osType: 'linux',
        machineFqdn: metadata.fqdn,
      },
    });
    const issued = await registerOrRollBack(session, await armToken(), id, metadata);
    const identity = {
      keyPem: issued.keyPem,
      certPem: issued.certificate,
      caPem: issued.caCertificate,
      renewAfter: issued.renewAfter,
      notAfter: issued.notAfter,
    };
    await saveMachineIdentity(home, identity);
    const cloudConfig = gateway
      ? await associateOrRollBack(home, session, await armToken(), id, gateway.id, identity)
      : undefined;
    const gatewayUrl = cloudConfig?.gateway?.url;
    const now = new Date().toISOString();
    await writeAgentState(home.agentConfig, {
      resourceName,
      resourceGroup,
      subscriptionId,
      tenantId,
      location: location.toLowerCase(),
      cloud: opts.cloud,
      resourceId: machine.id ?? id,
      ...(issued.vmId ? { vmId: issued.vmId } : {}),
      ...(opts.correlationId ? { correlationId: opts.correlationId } : {}),
      connectedAt: now,
      status: 'Connected',
      certificateNotAfter: issued.notAfter,
      ...(gatewayUrl ? { gatewayUrl } : {}),
    });
    connected = true;
    report(opts, home, machine.id ?? id, issued.vmId, cloudConfig?.gateway ?? undefined);
  } finally {
    if (gateway && !connected) await restoreCloudConfig(home, before).catch(() => undefined);
    await session.close();
  }
}

/** `connection.type direct` means never the gateway: onboarding through one would contradict it. */
async function refuseDirect(home: HomeLayout): Promise<void> {
  const config = await readLocalConfig(home.localConfig);
  if (config['connection.type'] === 'direct')
    throw new AgentError('CONFIG_CONFLICT', 'connection.type is direct, which never uses an Arc gateway', {
      action:
        'let the agent use the gateway first: azcmagent config set connection.type default (or gateway), then run connect again',
    });
}

/**
 * Before anything else goes out: the gateway's URL (from ARM unless given), a provisional
 * cloudconfig.json naming it, and the running Arc Proxy switched onto it.
 */
async function routeThroughGateway(
  home: HomeLayout,
  session: CloudSession,
  gateway: GatewayChoice,
  armToken: () => Promise<string>,
): Promise<void> {
  const url =
    gateway.url ?? (await getGateway({ ...session, token: await armToken(), id: gateway.id })).endpoint;
  const chosen = { id: gateway.id, url };
  await putCloudConfig(home, provisionalCloudConfig(chosen, session.cloud, new Date()));
  const inUse = await waitForProxyGateway(async () => (await askService(home, 'arcproxy')).health, chosen);
  if (!inUse)
    process.stderr.write(
      `azcmagent: the Arc Proxy does not report the gateway ${url} in use yet; continuing (check: azcmagent show)\n`,
    );
}

/**
 * The association (services/himds/gateway-association.ts); on failure the machine resource and
 * identity go, as after a failed registration: a retry starts clean.
 */
async function associateOrRollBack(
  home: HomeLayout,
  session: CloudSession,
  token: string,
  machineId: string,
  gatewayId: string,
  identity: { certPem: string; keyPem: string },
): Promise<CloudConfig> {
  try {
    return await associateMachineWithGateway({ ...session, home, token, machineId, gatewayId, identity });
  } catch (err) {
    await deleteMachine({ ...session, token, id: machineId }).catch(() => undefined);
    await removeMachineIdentity(home).catch(() => undefined);
    throw err;
  }
}

async function registerOrRollBack(session: CloudSession, token: string, id: string, metadata: unknown) {
  const { promisify } = await import('node:util');
  const generateKeyPair = promisify(nodeCrypto().generateKeyPair);
  const keys = await generateKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  try {
    const issued = await registerIdentity({
      ...session,
      token,
      resourceId: id,
      publicKey: keys.publicKey,
      fingerprint: await instanceFingerprint(),
      metadata,
    });
    return { ...issued, keyPem: keys.privateKey };
  } catch (err) {
    // Leave nothing half-made in the cloud: the resource without an identity would block a retry (44).
    await deleteMachine({ ...session, token, id }).catch(() => undefined);
    throw err;
  }
}

function report(
  opts: ConnectOptions,
  home: HomeLayout,
  resourceId: string,
  vmId: string | undefined,
  gateway: { id: string; url: string } | undefined,
): void {
  if (opts.json) {
    printJson({
      status: 'Connected',
      resourceId,
      vmId,
      home: home.root,
      ...(gateway ? { gatewayId: gateway.id, gatewayUrl: gateway.url } : {}),
    });
    return;
  }
  process.stdout.write(`INFO Connected machine to Azure\nINFO Machine resource: ${resourceId}\n`);
  if (gateway) process.stdout.write(`INFO Arc gateway: ${gateway.url} (${gateway.id})\n`);
}
