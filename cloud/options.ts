// The local cloud's settings: what a caller may pass (all but the data folder have defaults), checked
// once here, and the complete, typed settings everything below receives.
import { AgentError, type Logger } from '../core/index.ts';
import { createLogger } from '../core/index.ts';

export const DEFAULT_PORT = 40443;
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

export function resolveSettings(opts: LocalCloudOptions): CloudSettings {
  const port = opts.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new AgentError('ARGUMENT_INVALID', `port ${port}: a port from 0 to 65535`);
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
    now: opts.now ?? (() => new Date()),
    log: opts.log ?? createLogger({ name: 'arc-local-cloud', level: 'silent' }),
  };
}
