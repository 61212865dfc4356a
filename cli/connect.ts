// `azcmagent connect`: network pre-check through the Arc Proxy, a token, the ARM machine resource,
// then the machine identity (key pair here, certificate from the identity service), then
// agentconfig.json. Each failure exits with the real agent's code and says what to do.
import type { Command } from 'commander';
import { generateKeyPair as generateKeyPairCb } from 'node:crypto';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import { AgentError, readAgentState, resolveHome, writeAgentState, type HomeLayout } from '../core/index.ts';
import { VERSION } from '../core/version.ts';
import {
  armTokenFromSecret,
  collectMetadata,
  createMachine,
  deleteMachine,
  instanceFingerprint,
  machineResourceId,
  probe,
  registerIdentity,
  saveMachineIdentity,
} from '../services/himds/index.ts';
import { openCloudSession, type CloudSession } from './cloud-session.ts';
import { fail, printJson, type GlobalOptions } from './output.ts';

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
}

const generateKeyPair = promisify(generateKeyPairCb);

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
  const tags = parseTags(opts.tags);
  const resourceName = opts.resourceName ?? hostname();
  const session = await openCloudSession(home, opts.cloud);
  try {
    const regions = session.cloud.regions;
    if (regions && !regions.includes(location.toLowerCase())) {
      throw new AgentError('UNKNOWN_REGION', `${location} is not a region of ${session.cloud.name}`);
    }
    await networkPrecheck(session, opts.ignoreNetworkCheck === true);
    const token =
      opts.accessToken ??
      (await armTokenFromSecret({
        ...session,
        tenantId,
        clientId: opts.servicePrincipalId!,
        clientSecret: opts.servicePrincipalSecret!,
      }));
    const id = machineResourceId(subscriptionId, resourceGroup, resourceName);
    const metadata = await collectMetadata();
    const machine = await createMachine({
      ...session,
      token,
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
    const issued = await registerOrRollBack(session, token, id, metadata);
    await saveMachineIdentity(home, {
      keyPem: issued.keyPem,
      certPem: issued.certificate,
      caPem: issued.caCertificate,
      renewAfter: issued.renewAfter,
      notAfter: issued.notAfter,
    });
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
    });
    report(opts, home, machine.id ?? id, issued.vmId);
  } finally {
    await session.close();
  }
}

async function registerOrRollBack(session: CloudSession, token: string, id: string, metadata: unknown) {
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

/** Every endpoint connect needs, through the Arc Proxy: any HTTP answer means reachable. */
async function networkPrecheck(session: CloudSession, ignore: boolean): Promise<void> {
  const { endpoints } = session.cloud;
  const urls = [endpoints.login, endpoints.arm, endpoints.hisGlobal].filter(Boolean);
  const results = await Promise.all(
    urls.map(async (url) => {
      const reason = await probe(url, session.dispatcher);
      if (reason === undefined) return undefined;
      const { host, hostname } = new URL(url);
      return reason.includes('allow-list')
        ? `${host}: refused by the Arc Proxy allow-list; allow it: azcmagent config set arcproxy.allowlist ${hostname}:443 --add`
        : reason;
    }),
  );
  const failures = results.filter((r): r is string => r !== undefined);
  if (failures.length === 0) return;
  if (ignore) {
    process.stderr.write(
      `azcmagent: network check failed, continuing (--ignore-network-check):\n  ${failures.join('\n  ')}\n`,
    );
    return;
  }
  throw new AgentError('NETWORK_CHECK_FAILED', failures.join('; '));
}

function report(opts: ConnectOptions, home: HomeLayout, resourceId: string, vmId: string | undefined): void {
  if (opts.json) {
    printJson({ status: 'Connected', resourceId, vmId, home: home.root });
    return;
  }
  process.stdout.write(`INFO Connected machine to Azure\nINFO Machine resource: ${resourceId}\n`);
}
