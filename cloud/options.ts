// The local cloud's settings: what a caller may pass (all but the data folder have defaults), checked
// once here, and the complete, typed settings everything below receives.
import { AgentError, type Logger } from '../core/index.ts';
import { createLogger } from '../core/index.ts';
import { parseAuthority, type Target } from './gateway-target.ts';
import { compileTargets } from './gateway-target.ts';

export const DEFAULT_PORT = 40443;
/** The Arc gateway's port; with `port: 0` the gateway's default is 0 too, so that parallel clouds never collide. */
export const DEFAULT_GATEWAY_PORT = 40444;
/** Regions the local cloud offers (ARM's spelling: lower case, no spaces). */
export const LOCAL_REGIONS = [
  'eastus',
  'eastus2',
  'westus2',
  'westus3',
  'centralus',
  'northeurope',
  'westeurope',
  'uksouth',
  'swedencentral',
  'southeastasia',
  'japaneast',
  'australiaeast',
];

export interface LocalCloudOptions {
  /** Where the database, the CA and the written files live (created 0700 if absent). */
  dataDir: string;
  host?: string;
  /** 0 picks a free port; the readiness line and profile.json say which. */
  port?: number;
  /** Lifetime of machine certificates (default 90 days). */
  certDays?: number;
  /** Renew when this many days or fewer remain (default 45). */
  renewDays?: number;
  /** A machine without a heartbeat for this long is Disconnected (default 900 s). */
  disconnectAfterSeconds?: number;
  /** What the cloud asks of agents (default 300 s). */
  heartbeatIntervalSeconds?: number;
  /** Lifetime of client-credentials tokens (default 3599 s, as Entra). */
  tokenLifetimeSeconds?: number;
  /** Lifetime of machine-identity tokens (default 86399 s, as managed identities). */
  identityTokenLifetimeSeconds?: number;
  /** Machines per page of an ARM list (default 100; nextLink for the rest). */
  pageSize?: number;
  regions?: string[];
  /** The Arc gateway's port (default 40444, or 0 when `port` is 0); 0 picks a free port. */
  gatewayPort?: number;
  /** The address the gateway listens on (default: `host`), e.g. a veth address in a network namespace. */
  gatewayHost?: string;
  /** Patterns the gateway serves besides its built-in list (host, host:port, *.domain, *.domain:port). */
  gatewayAllow?: string[];
  /** Names the gateway resolves itself: host (or host:port) -> `address:port`. */
  gatewayResolve?: Record<string, string>;
  /** Dialling a target longer than this is 504 TargetTimeout (default 10 s). */
  gatewayConnectTimeoutMs?: number;
  /** A tunnel idle both ways for this long is closed (default 300 s). */
  gatewayIdleTimeoutMs?: number;
  /** The clock; tests move it to simulate time passing. */
  now?: () => Date;
  log?: Logger;
}

export interface CloudSettings {
  dataDir: string;
  host: string;
  port: number;
  certDays: number;
  renewDays: number;
  disconnectAfterMs: number;
  heartbeatIntervalSeconds: number;
  tokenLifetimeSeconds: number;
  identityTokenLifetimeSeconds: number;
  pageSize: number;
  regions: string[];
  gatewayPort: number;
  gatewayHost: string;
  gatewayAllow: string[];
  gatewayResolve: Record<string, Target>;
  gatewayConnectTimeoutMs: number;
  gatewayIdleTimeoutMs: number;
  now: () => Date;
  log: Logger;
}

function positive(name: string, value: number, integer = false): number {
  if (!(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value)))
    throw new AgentError(
      'ARGUMENT_INVALID',
      `${name} ${value}: a positive ${integer ? 'integer' : 'number'}`,
    );
  return value;
}

function checkPort(name: string, port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new AgentError('ARGUMENT_INVALID', `${name} ${port}: a port from 0 to 65535`);
  return port;
}

function gatewayResolve(map: Record<string, string>): Record<string, Target> {
  return Object.fromEntries(
    Object.entries(map).map(([name, at]) => {
      const to = parseAuthority(at);
      if (!to)
        throw new AgentError(
          'ARGUMENT_INVALID',
          `gatewayResolve ${name}=${at}: the address must be address:port`,
        );
      return [name.toLowerCase(), to];
    }),
  );
}

export function resolveSettings(opts: LocalCloudOptions): CloudSettings {
  const port = checkPort('port', opts.port ?? DEFAULT_PORT);
  const gatewayAllow = opts.gatewayAllow ?? [];
  const { invalid } = compileTargets(gatewayAllow);
  if (invalid.length > 0)
    throw new AgentError(
      'ARGUMENT_INVALID',
      `gatewayAllow ${invalid.join(', ')}: patterns are host, host:port, *.domain or *.domain:port`,
    );
  const certDays = positive('certDays', opts.certDays ?? 90);
  const renewDays = positive('renewDays', opts.renewDays ?? 45);
  if (renewDays >= certDays)
    throw new AgentError('ARGUMENT_INVALID', `renewDays ${renewDays} must be less than certDays ${certDays}`);
  return {
    dataDir: opts.dataDir,
    host: opts.host ?? '127.0.0.1',
    port,
    certDays,
    renewDays,
    disconnectAfterMs: positive('disconnectAfterSeconds', opts.disconnectAfterSeconds ?? 900) * 1000,
    heartbeatIntervalSeconds: positive(
      'heartbeatIntervalSeconds',
      opts.heartbeatIntervalSeconds ?? 300,
      true,
    ),
    tokenLifetimeSeconds: positive('tokenLifetimeSeconds', opts.tokenLifetimeSeconds ?? 3599, true),
    identityTokenLifetimeSeconds: positive(
      'identityTokenLifetimeSeconds',
      opts.identityTokenLifetimeSeconds ?? 86399,
      true,
    ),
    pageSize: positive('pageSize', opts.pageSize ?? 100, true),
    regions: (opts.regions ?? LOCAL_REGIONS).map((r) => r.toLowerCase()),
    gatewayPort: checkPort('gatewayPort', opts.gatewayPort ?? (port === 0 ? 0 : DEFAULT_GATEWAY_PORT)),
    gatewayHost: opts.gatewayHost ?? opts.host ?? '127.0.0.1',
    gatewayAllow,
    gatewayResolve: gatewayResolve(opts.gatewayResolve ?? {}),
    gatewayConnectTimeoutMs: positive('gatewayConnectTimeoutMs', opts.gatewayConnectTimeoutMs ?? 10_000),
    gatewayIdleTimeoutMs: positive('gatewayIdleTimeoutMs', opts.gatewayIdleTimeoutMs ?? 300_000),
    now: opts.now ?? (() => new Date()),
    log: opts.log ?? createLogger({ name: 'arc-local-cloud', level: 'silent' }),
  };
}
