// `azcmagent show [property ...]`: the machine's resource, the agent's status and proxy settings,
// and whether each service runs, as the real agent's `show` prints them (reference section 2.3).
// Needs no root: it reads agentconfig.json, localconfig.json and cloudconfig.json (all 0644) and
// asks each service over its socket. A file it cannot read is named on stderr with the fix; what could be read is
// still printed, and the exit code is that file's (70), as `ls` does with a directory it cannot open.
import type { Command } from 'commander';
import { join } from 'node:path';
import {
  AgentError,
  DEFAULT_HOME,
  VERSION,
  isAgentError,
  readAgentState,
  readCloudConfig,
  readLocalConfig,
  redactSecrets,
  resolveHome,
  type AgentState,
  type CloudConfig,
  type HomeLayout,
  type LocalConfig,
} from '../core/index.ts';
import { DEFAULT_PROXY_PORT, gatewayInEffect } from '../proxy/index.ts';
import { alignedLines, displayProxyUrl, type Field } from './format.ts';
import { fail, printJson, type GlobalOptions } from './output.ts';
import {
  AGENT_SERVICES,
  askServices,
  type ServiceName,
  type ServiceState,
  type ServiceStatus,
} from './service-status.ts';

/** Connected, Disconnected and Expired come from the cloud (via agentconfig.json); the others are ours. */
export type AgentStatus = 'Connected' | 'Disconnected' | 'Expired' | 'NotConnected' | 'Unknown';

export interface ShowResult {
  resourceName: string;
  resourceGroup: string;
  resourceId: string;
  subscriptionId: string;
  tenantId: string;
  vmId: string;
  correlationId: string;
  location: string;
  cloud: string;
  agentVersion: string;
  agentLogfile: string;
  status: AgentStatus;
  lastHeartbeat: string;
  agentErrorCode: string;
  agentErrorDetails: string;
  agentErrorTimestamp: string;
  httpsProxy: string;
  proxyBypassList: string[];
  upstreamProxy: string;
  gatewayUrl: string;
  connectionType: string;
  /** `gateway` or `direct` (straight or through the enterprise proxy); empty when a file could not be read. */
  connectionTypeInEffect: '' | 'gateway' | 'direct';
  services: Record<ServiceName, ServiceState>;
}

type FieldKey = Exclude<keyof ShowResult, 'services'>;

/** Display names (the real agent's) and JSON keys, in the real agent's order. */
export const SHOW_FIELDS: readonly (readonly [string, FieldKey])[] = [
  ['Resource Name', 'resourceName'],
  ['Resource Group Name', 'resourceGroup'],
  ['Resource Id', 'resourceId'],
  ['Subscription ID', 'subscriptionId'],
  ['Tenant ID', 'tenantId'],
  ['VM ID', 'vmId'],
  ['Correlation ID', 'correlationId'],
  ['Location', 'location'],
  ['Cloud', 'cloud'],
  ['Agent Version', 'agentVersion'],
  ['Agent Logfile', 'agentLogfile'],
  ['Agent Status', 'status'],
  ['Agent Last Heartbeat', 'lastHeartbeat'],
  ['Agent Error Code', 'agentErrorCode'],
  ['Agent Error Details', 'agentErrorDetails'],
  ['Agent Error Timestamp', 'agentErrorTimestamp'],
  ['Using HTTPS Proxy', 'httpsProxy'],
  ['Proxy Bypass List', 'proxyBypassList'],
  ['Upstream Proxy', 'upstreamProxy'],
  ['Gateway URL', 'gatewayUrl'],
  ['Connection Type', 'connectionType'],
  ['Connection Type In Effect', 'connectionTypeInEffect'],
];
const SERVICES_HEADING = 'Dependent Service Status';
const serviceLabel = (s: { name: string; title: string }) => `${s.title} (${s.name})`;

/** What the filters picked: fields, and services (all of them for the heading or `services`). */
interface Selection {
  fields: Set<FieldKey>;
  services: Set<ServiceName>;
}

export function registerShow(program: Command): void {
  program
    .command('show')
    .description("the machine's resource, the agent's status and proxy settings, and its services")
    .argument(
      '[property...]',
      'show only these: display names (quoted when they have spaces) or JSON keys, e.g. "Agent Status" lastHeartbeat',
    )
    .action(async (properties: string[], _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      try {
        await show(opts, properties);
      } catch (err) {
        fail(err, opts.json);
      }
    });
}

async function show(opts: GlobalOptions, properties: string[]): Promise<void> {
  const selection = select(properties);
  const home = resolveHome(opts.home, process.env);
  const { result, services, problems } = await gatherShow(home);
  print(opts, result, selection);
  for (const s of services.filter((s) => s.state === 'unknown'))
    process.stderr.write(`azcmagent: could not ask ${s.title} whether it is running: ${s.reason}\n`);
  for (const p of problems)
    process.stderr.write(`Error ${p.code}: ${redactSecrets(p.message)}\n  To fix: ${readAction(home, p)}\n`);
  if (problems[0]) process.exitCode = problems[0].exitCode;
}

/**
 * What `show` knows: the three files and the services' answers. A file that cannot be read is a
 * problem to report, not a failure: the rest is still worth showing (also in the `logs` bundle).
 */
export async function gatherShow(
  home: HomeLayout,
): Promise<{ result: ShowResult; services: ServiceStatus[]; problems: AgentError[] }> {
  const problems: AgentError[] = [];
  const keep = <T>(read: Promise<T>): Promise<T | AgentError> =>
    read.catch((err: unknown) => {
      if (!isAgentError(err)) throw err;
      problems.push(err);
      return err;
    });
  const [state, config, cloudConfig, services] = await Promise.all([
    keep(readAgentState(home.agentConfig)),
    keep(readLocalConfig(home.localConfig)),
    keep(readCloudConfig(home.cloudConfig)),
    askServices(
      home,
      AGENT_SERVICES.map((s) => s.name),
    ),
  ]);
  return {
    result: buildShow({ home, state, config, cloudConfig, services, env: process.env }),
    services,
    problems,
  };
}

function readAction(home: HomeLayout, err: AgentError): string {
  if (!/EACCES|EPERM/.test(err.message)) return err.action;
  const sudo = home.root === DEFAULT_HOME ? 'run as root, or ' : '';
  return `${sudo}make the file readable (it is written 0644)`;
}

/** The filters, resolved: display names case-insensitively, or JSON keys; none picks everything. */
function select(properties: string[]): Selection {
  const all: Selection = {
    fields: new Set(SHOW_FIELDS.map(([, k]) => k)),
    services: new Set(AGENT_SERVICES.map((s) => s.name)),
  };
  if (properties.length === 0) return all;
  const byName = new Map<string, Partial<Selection>>();
  for (const [display, key] of SHOW_FIELDS) {
    byName.set(display.toLowerCase(), { fields: new Set([key]) });
    byName.set(key.toLowerCase(), { fields: new Set([key]) });
  }
  byName.set(SERVICES_HEADING.toLowerCase(), { services: all.services });
  byName.set('services', { services: all.services });
  for (const s of AGENT_SERVICES) {
    byName.set(serviceLabel(s).toLowerCase(), { services: new Set([s.name]) });
    byName.set(s.name, { services: new Set([s.name]) });
  }
  const picked: Selection = { fields: new Set(), services: new Set() };
  for (const p of properties) {
    const hit = byName.get(p.trim().toLowerCase());
    if (!hit) throw unknownProperty(p);
    for (const f of hit.fields ?? []) picked.fields.add(f);
    for (const s of hit.services ?? []) picked.services.add(s);
  }
  return picked;
}

function unknownProperty(given: string): AgentError {
  const names = [
    ...SHOW_FIELDS.map(([display, key]) => `${display} (${key})`),
    `${SERVICES_HEADING} (services)`,
    ...AGENT_SERVICES.map(serviceLabel),
  ];
  return new AgentError(
    'ARGUMENT_INVALID',
    `unknown property "${given}"; the properties are ${names.join(', ')}`,
    {
      action:
        'name display names (quoted when they have spaces) or JSON keys: azcmagent show "Agent Status" lastHeartbeat',
    },
  );
}

interface ShowInputs {
  home: HomeLayout;
  /** undefined: not connected; an error: agentconfig.json could not be read. */
  state: AgentState | undefined | AgentError;
  config: LocalConfig | AgentError;
  /** cloudconfig.json: the Arc gateway the cloud associates with this machine; undefined: not read. */
  cloudConfig?: CloudConfig | AgentError | undefined;
  services: ServiceStatus[];
  env: NodeJS.ProcessEnv;
}

/** The result from what was read; pure, so every field's rule is in one place. */
export function buildShow({ home, state, config, cloudConfig, services, env }: ShowInputs): ShowResult {
  const connection = state instanceof AgentError ? undefined : state;
  const settings = config instanceof AgentError ? undefined : config;
  const cloud = cloudConfig instanceof AgentError ? undefined : cloudConfig;
  const arcproxy = services.find((s) => s.name === 'arcproxy');
  const proxyPort =
    typeof arcproxy?.health?.['port'] === 'number' ? arcproxy.health['port'] : DEFAULT_PROXY_PORT;
  const serviceStates = Object.fromEntries(AGENT_SERVICES.map((s) => [s.name, 'unknown'])) as Record<
    ServiceName,
    ServiceState
  >;
  for (const s of services) serviceStates[s.name] = s.state;
  return {
    resourceName: connection?.resourceName ?? '',
    resourceGroup: connection?.resourceGroup ?? '',
    resourceId: connection?.resourceId ?? '',
    subscriptionId: connection?.subscriptionId ?? '',
    tenantId: connection?.tenantId ?? '',
    vmId: connection?.vmId ?? '',
    correlationId: connection?.correlationId ?? '',
    location: connection?.location ?? '',
    cloud: connection?.cloud ?? '',
    agentVersion: VERSION,
    agentLogfile: join(home.log, 'himds.log'),
    status: state === undefined ? 'NotConnected' : (connection?.status ?? 'Unknown'),
    lastHeartbeat: connection?.lastHeartbeat ?? '',
    agentErrorCode: connection?.errorCode ?? '',
    agentErrorDetails: connection?.errorDetails ?? '',
    agentErrorTimestamp: connection?.errorTimestamp ?? '',
    httpsProxy: arcproxy?.state === 'running' ? `http://localhost:${proxyPort}` : '',
    proxyBypassList: settings ? [...settings['proxy.bypass']] : [],
    upstreamProxy: settings ? upstreamProxy(settings, env, proxyPort) : '',
    gatewayUrl: cloud?.gateway?.url ?? '',
    connectionType: settings?.['connection.type'] ?? '',
    connectionTypeInEffect:
      settings && cloud ? (gatewayInEffect(settings['connection.type'], cloud) ? 'gateway' : 'direct') : '',
    services: serviceStates,
  };
}

/**
 * The enterprise proxy the Arc Proxy uses: proxy.url, else HTTPS_PROXY / HTTP_PROXY (lower case
 * first, as the Arc Proxy reads them) unless that points back at the Arc Proxy. Never with credentials.
 */
function upstreamProxy(config: LocalConfig, env: NodeJS.ProcessEnv, ownPort: number): string {
  if (config['proxy.url']) return displayProxyUrl(config['proxy.url']);
  const value = env['https_proxy'] || env['HTTPS_PROXY'] || env['http_proxy'] || env['HTTP_PROXY'];
  if (!value) return '';
  try {
    const url = new URL(value.includes('://') ? value : `http://${value}`);
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    if (loopback && [String(ownPort), String(DEFAULT_PROXY_PORT)].includes(url.port)) return '';
  } catch {
    // shown as given, scrubbed, so the user sees what the environment holds
  }
  return displayProxyUrl(value);
}

/**
 * A field as text: lists comma-separated, and the gateway rows explained where the bare value would
 * mislead (JSON keeps the bare values: scripts read them, and docs/cli.md says what they mean).
 */
function textValue(result: ShowResult, key: FieldKey): string {
  const gateway = result.connectionTypeInEffect === 'gateway';
  switch (key) {
    case 'proxyBypassList':
      return gateway && result.proxyBypassList.length > 0
        ? `${result.proxyBypassList.join(',')} (ignored: the Arc gateway is in use; gateway.bypass names what skips it)`
        : result.proxyBypassList.join(',');
    case 'connectionTypeInEffect':
      if (result.connectionTypeInEffect === 'direct' && result.connectionType === 'gateway')
        return 'direct (connection.type is gateway, but no Arc gateway is associated with this machine)';
      if (
        result.connectionTypeInEffect === 'direct' &&
        result.connectionType === 'direct' &&
        result.gatewayUrl
      )
        return 'direct (an Arc gateway is associated, but connection.type is direct)';
      return result.connectionTypeInEffect;
    default:
      return result[key];
  }
}

function print(opts: GlobalOptions, result: ShowResult, selection: Selection): void {
  const fields = SHOW_FIELDS.filter(([, key]) => selection.fields.has(key));
  const services = AGENT_SERVICES.filter((s) => selection.services.has(s.name));
  if (opts.json) {
    const out: Record<string, unknown> = Object.fromEntries(fields.map(([, key]) => [key, result[key]]));
    if (services.length > 0)
      out['services'] = Object.fromEntries(services.map((s) => [s.name, result.services[s.name]]));
    printJson(out);
    return;
  }
  const lines: Field[] = fields.map(([display, key]) => ({ name: display, value: textValue(result, key) }));
  if (services.length > 0) {
    lines.push({ name: SERVICES_HEADING });
    for (const s of services)
      lines.push({ name: serviceLabel(s), value: result.services[s.name], indent: 2 });
  }
  process.stdout.write(`${alignedLines(lines)}\n`);
}
