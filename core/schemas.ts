// The typebox schemas of the agent's JSON files: localconfig.json, agentconfig.json, cloudconfig.json
// and cloud profile files. They are the source of truth for the files' types and for their checks,
// which are generated from them into schema-checks.generated.ts (`npm run generate`), so that a process
// checks its files without loading typebox; this module is imported only to word a problem
// (schema-check.ts) and by the generator. Every export is a schema that gets a check.
import { Type, type TSchema } from 'typebox';
import {
  BLOCKED_EXTENSION_NAME,
  BYPASS_CATEGORIES,
  ENDPOINT_PATTERN,
  EXTENSION_NAME,
  PROXY_URL_PATTERN,
} from './config-patterns.ts';

// localconfig.json (config.ts)

/**
 * What a key is for (`description`) and, separately, the values it takes (`allowed`): validation
 * messages and `azcmagent config info` print both, so a refusal always names what would be accepted.
 */
interface KeyText {
  description: string;
  allowed: string;
}

const list = <T extends TSchema>(item: T, text: KeyText) => Type.Array(item, { default: [], ...text });
const bool = (description: string) => Type.Boolean({ default: true, description, allowed: 'true or false' });
const cpuLimit = (description: string) =>
  Type.Integer({ minimum: 1, maximum: 100, default: 5, description, allowed: 'an integer from 1 to 100' });

// Key order is the order of the real agent's `config list` (reference section 4.1), then ours.
export const LocalConfigSchema = Type.Object(
  {
    'incomingconnections.enabled': bool(
      'allow remote access (SSH, Windows Admin Center) through the Arc connectivity platform',
    ),
    'incomingconnections.ports': list(Type.Integer({ minimum: 1, maximum: 65535 }), {
      description: 'TCP ports that the Arc connectivity platform may connect to on this machine',
      allowed: 'a list of TCP ports from 1 to 65535, e.g. 22,6516',
    }),
    // `default` is what agents since 1.51 do: use the gateway the cloud associates with this machine.
    'connection.type': Type.Union(
      [Type.Literal('default'), Type.Literal('direct'), Type.Literal('gateway')],
      {
        default: 'default',
        description: 'how the Arc Proxy reaches Azure',
        allowed:
          'default (through the Arc gateway when the cloud associates one with this machine, else direct), direct (never the gateway: straight, or through proxy.url) or gateway (through the Arc gateway)',
      },
    ),
    'proxy.url': Type.String({
      default: '',
      pattern: PROXY_URL_PATTERN,
      description: 'the enterprise proxy that traffic to Azure goes through; empty for none',
      allowed:
        'an http:// or https:// URL of a host with an optional port and no path, e.g. http://proxy.contoso.com:8080',
    }),
    'proxy.bypass': list(
      Type.Union([
        Type.Literal('AAD'),
        Type.Literal('ARM'),
        Type.Literal('Arc'),
        Type.Literal('AMA'),
        Type.Literal('ArcData'),
      ]),
      {
        description:
          'services whose endpoints skip proxy.url and go direct (ignored with connection.type gateway)',
        allowed: `a list of service names: ${BYPASS_CATEGORIES.join(', ')}`,
      },
    ),
    'extensions.allowlist': list(Type.String({ pattern: EXTENSION_NAME }), {
      description:
        'the only extensions that may be installed or updated; empty allows all that are not blocked',
      allowed:
        'a list of Publisher/Type names, e.g. Microsoft.Azure.Monitor/AzureMonitorLinuxAgent, or Allow/None to allow none',
    }),
    'extensions.blocklist': list(Type.String({ pattern: BLOCKED_EXTENSION_NAME }), {
      description: 'extensions that are never installed or updated',
      allowed: 'a list of Publisher/Type names, e.g. Microsoft.CPlat.Core/RunCommandHandlerLinux',
    }),
    'guestconfiguration.enabled': bool('run machine configuration (Azure Policy guest configuration)'),
    'extensions.enabled': bool('run the extension manager; extensions already installed stay'),
    'config.mode': Type.Union([Type.Literal('full'), Type.Literal('monitor')], {
      default: 'full',
      description:
        'monitor applies a Microsoft-managed extension allow-list, turns off machine configuration and remote access, and locks extensions.allowlist and extensions.blocklist',
      allowed: 'full or monitor',
    }),
    'guestconfiguration.agent.cpulimit': cpuLimit('CPU limit of machine configuration, in percent'),
    'extensions.agent.cpulimit': cpuLimit('CPU limit of the extension manager, in percent'),
    'arcproxy.allowlist.mode': Type.Union([Type.Literal('audit'), Type.Literal('enforce')], {
      default: 'audit',
      description: 'what the Arc Proxy does with destinations outside its allow-list',
      allowed: 'audit (let them through, log and count them) or enforce (refuse them with 403)',
    }),
    'arcproxy.allowlist': list(Type.String({ pattern: ENDPOINT_PATTERN }), {
      description: "destinations the Arc Proxy allows besides the cloud's own endpoints",
      allowed: 'a list of host, host:port, *.domain, *.domain:port, IPv4 or [IPv6] literals',
    }),
    'gateway.bypass': list(Type.String({ pattern: ENDPOINT_PATTERN }), {
      description: 'destinations that skip the Arc gateway',
      allowed: 'a list of host[:port] or *.domain[:port]',
    }),
  },
  { additionalProperties: true },
);

// agentconfig.json (agent-state.ts)

const optional = (description: string) => Type.Optional(Type.String({ description }));

export const AgentStateSchema = Type.Object(
  {
    resourceName: Type.String(),
    resourceGroup: Type.String(),
    subscriptionId: Type.String(),
    tenantId: Type.String(),
    location: Type.String(),
    /** A built-in cloud name, or the path of a cloud profile file (the local cloud). */
    cloud: Type.String(),
    resourceId: Type.String(),
    vmId: optional('the machine id the cloud gave at registration'),
    correlationId: optional('telemetry correlation id given to connect'),
    connectedAt: optional('ISO-8601 time of connect'),
    /** Last status the cloud reported: Connected, Disconnected or Expired. */
    status: Type.Optional(
      Type.Union([Type.Literal('Connected'), Type.Literal('Disconnected'), Type.Literal('Expired')]),
    ),
    lastHeartbeat: optional('ISO-8601 time of the last heartbeat the cloud accepted'),
    errorCode: optional('stable code of the last failure talking to the cloud'),
    errorDetails: optional('what went wrong, and what to do'),
    errorTimestamp: optional('ISO-8601 time of the last failure'),
    certificateThumbprint: optional('SHA-1 thumbprint of the machine identity certificate'),
    certificateNotAfter: optional('ISO-8601 expiry of the machine identity certificate'),
    gatewayUrl: optional('the Arc gateway this machine is associated with'),
  },
  { additionalProperties: true },
);

// cloudconfig.json (cloud-config.ts)

export const GatewayConfigSchema = Type.Object(
  {
    /** ARM id of the Microsoft.HybridCompute/gateways resource. */
    id: Type.String({ minLength: 1 }),
    /** https://<prefix>.gw.<domain>[:port], the gateway's endpoint. */
    url: Type.String({ pattern: '^https://' }),
    /** Destinations the gateway serves: host, host:port, *.domain, *.domain:port (port 443 if none). */
    endpoints: Type.Array(Type.String()),
  },
  { additionalProperties: true },
);

export const CloudConfigSchema = Type.Object(
  {
    gateway: Type.Union([GatewayConfigSchema, Type.Null()]),
    /** ISO-8601 time the cloud last said this. */
    updatedAt: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

// A cloud profile file (clouds.ts)

const CheckEndpointSchema = Type.Object({
  url: Type.String({ pattern: '^https://' }),
  purpose: Type.String(),
  need: Type.Union([Type.Literal('required'), Type.Literal('optional')]),
  extension: Type.Optional(Type.String({ pattern: '^[a-z0-9-]+$' })),
  privateLink: Type.Optional(Type.Boolean()),
  onboarding: Type.Optional(Type.Boolean()),
});

const EndpointSchema = Type.Object({
  host: Type.String({ minLength: 1 }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  category: Type.Optional(Type.Union(BYPASS_CATEGORIES.map((c) => Type.Literal(c)))),
  purpose: Type.String(),
});

export const CloudProfileSchema = Type.Object({
  name: Type.String({ minLength: 1 }),
  endpoints: Type.Object({
    arm: Type.String(),
    login: Type.String(),
    hisGlobal: Type.String(),
    guestConfiguration: Type.String(),
    notifications: Type.String(),
    gatewayDomain: Type.String(),
  }),
  allow: Type.Array(EndpointSchema),
  caFile: Type.Optional(Type.String()),
  regions: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z0-9]+$' }))),
  regionCodes: Type.Optional(Type.Record(Type.String(), Type.String({ pattern: '^[a-z0-9-]+$' }))),
  check: Type.Optional(Type.Array(CheckEndpointSchema)),
  resolve: Type.Optional(
    Type.Record(
      Type.String(),
      Type.String({ pattern: '^[^:]+:[0-9]{1,5}$|^\\[[0-9a-fA-F:.]+\\]:[0-9]{1,5}$' }),
    ),
  ),
});
