// The local cloud's database schema (SQLite), its version in PRAGMA user_version, and how rows map
// to the records the rest of cloud/ uses. A database from a newer version is refused, not guessed at.
import type Database from 'better-sqlite3';
import { AgentError } from '../core/index.ts';
import type { CertificateRecord, GatewayRecord, MachineRecord } from './store.ts';

/** Version 1: the cloud as first released; version 2: Arc gateways and machines' settings/default. */
const SCHEMA_V1 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE keys (
  name TEXT PRIMARY KEY,
  private_key_pem TEXT NOT NULL,
  certificate_pem TEXT,
  created_at TEXT NOT NULL
);
CREATE TABLE service_principals (
  client_id TEXT PRIMARY KEY,
  object_id TEXT NOT NULL,
  secret TEXT NOT NULL,
  display_name TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE machines (
  key TEXT PRIMARY KEY,            -- the resource id in lower case (ARM ids are case-insensitive)
  resource_id TEXT NOT NULL,
  subscription_id TEXT NOT NULL,
  resource_group TEXT NOT NULL,    -- lower case, for listing
  name TEXT NOT NULL,
  location TEXT NOT NULL,
  tags TEXT NOT NULL,              -- JSON
  properties TEXT NOT NULL,        -- JSON: what the client PUT
  vm_id TEXT NOT NULL,
  principal_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  fingerprint TEXT,
  registered_at TEXT,
  last_heartbeat TEXT,
  connected_since TEXT,
  agent_version TEXT,
  metadata TEXT                    -- JSON: what the agent reported
);
CREATE INDEX machines_by_group ON machines (subscription_id, resource_group, name);
CREATE TABLE certificates (
  thumbprint TEXT PRIMARY KEY,     -- SHA-256, upper-case hex
  serial TEXT NOT NULL,
  machine_key TEXT NOT NULL,
  certificate_pem TEXT NOT NULL,
  not_before TEXT NOT NULL,
  not_after TEXT NOT NULL,
  issued_at TEXT NOT NULL,
  revoked_at TEXT,
  revoked_reason TEXT              -- 'replaced' (registered again) or 'deleted' (resource deleted)
);
CREATE INDEX certificates_by_machine ON certificates (machine_key, not_after);
CREATE TABLE heartbeats (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  machine_key TEXT NOT NULL,
  received_at TEXT NOT NULL,
  reported_time TEXT,
  agent_version TEXT,
  fingerprint TEXT NOT NULL,
  outcome TEXT NOT NULL            -- 'accepted' or 'clone'
);
CREATE INDEX heartbeats_by_machine ON heartbeats (machine_key, id);
`;

const SCHEMA_V2 = `
CREATE TABLE gateways (
  key TEXT PRIMARY KEY,            -- the resource id in lower case
  resource_id TEXT NOT NULL,
  subscription_id TEXT NOT NULL,
  resource_group TEXT NOT NULL,    -- lower case, for listing
  name TEXT NOT NULL,
  location TEXT NOT NULL,
  gateway_id TEXT NOT NULL,        -- the guid: also the first label of its endpoint's host
  gateway_type TEXT NOT NULL,
  allowed_features TEXT NOT NULL,  -- JSON array
  tags TEXT NOT NULL,              -- JSON
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX gateways_by_group ON gateways (subscription_id, resource_group, key);
CREATE TABLE machine_settings (    -- a machine's settings/default: today only its gateway
  machine_key TEXT PRIMARY KEY,
  gateway_key TEXT,                -- NULL: not associated
  updated_at TEXT NOT NULL
);
CREATE INDEX machine_settings_by_gateway ON machine_settings (gateway_key);
`;

/** Each step takes the schema from its index to the next version. */
const MIGRATIONS = [SCHEMA_V1, SCHEMA_V2];
export const SCHEMA_VERSION = MIGRATIONS.length;

export interface MachineRow {
  key: string;
  resource_id: string;
  subscription_id: string;
  resource_group: string;
  name: string;
  location: string;
  tags: string;
  properties: string;
  vm_id: string;
  principal_id: string;
  client_id: string;
  created_at: string;
  updated_at: string;
  fingerprint: string | null;
  registered_at: string | null;
  last_heartbeat: string | null;
  connected_since: string | null;
  agent_version: string | null;
  metadata: string | null;
}

export interface CertificateRow {
  thumbprint: string;
  serial: string;
  machine_key: string;
  certificate_pem: string;
  not_before: string;
  not_after: string;
  issued_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
}

export interface GatewayRow {
  key: string;
  resource_id: string;
  subscription_id: string;
  resource_group: string;
  name: string;
  location: string;
  gateway_id: string;
  gateway_type: string;
  allowed_features: string;
  tags: string;
  created_at: string;
  updated_at: string;
}

export const orUndefined = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

export const toMachine = (r: MachineRow): MachineRecord => ({
  key: r.key,
  resourceId: r.resource_id,
  subscriptionId: r.subscription_id,
  resourceGroup: r.resource_group,
  name: r.name,
  location: r.location,
  tags: JSON.parse(r.tags) as Record<string, string>,
  properties: JSON.parse(r.properties) as Record<string, unknown>,
  vmId: r.vm_id,
  principalId: r.principal_id,
  clientId: r.client_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  fingerprint: orUndefined(r.fingerprint),
  registeredAt: orUndefined(r.registered_at),
  lastHeartbeat: orUndefined(r.last_heartbeat),
  connectedSince: orUndefined(r.connected_since),
  agentVersion: orUndefined(r.agent_version),
  metadata: r.metadata === null ? undefined : (JSON.parse(r.metadata) as Record<string, unknown>),
});

export const toCertificate = (r: CertificateRow): CertificateRecord => ({
  thumbprint: r.thumbprint,
  serial: r.serial,
  machineKey: r.machine_key,
  certificatePem: r.certificate_pem,
  notBefore: r.not_before,
  notAfter: r.not_after,
  issuedAt: r.issued_at,
  revokedAt: orUndefined(r.revoked_at),
  revokedReason: orUndefined(r.revoked_reason) as CertificateRecord['revokedReason'],
});

export const toGateway = (r: GatewayRow): GatewayRecord => ({
  key: r.key,
  resourceId: r.resource_id,
  subscriptionId: r.subscription_id,
  resourceGroup: r.resource_group,
  name: r.name,
  location: r.location,
  gatewayId: r.gateway_id,
  gatewayType: r.gateway_type,
  allowedFeatures: JSON.parse(r.allowed_features) as string[],
  tags: JSON.parse(r.tags) as Record<string, string>,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const fromGateway = (g: GatewayRecord): GatewayRow => ({
  key: g.key,
  resource_id: g.resourceId,
  subscription_id: g.subscriptionId,
  resource_group: g.resourceGroup.toLowerCase(),
  name: g.name,
  location: g.location,
  gateway_id: g.gatewayId,
  gateway_type: g.gatewayType,
  allowed_features: JSON.stringify(g.allowedFeatures),
  tags: JSON.stringify(g.tags),
  created_at: g.createdAt,
  updated_at: g.updatedAt,
});

export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  if (version > SCHEMA_VERSION)
    throw new AgentError(
      'CONFIG_UNREADABLE',
      `the database was written by a newer arc-local-cloud (schema ${version}); use that version`,
    );
  db.transaction(() => {
    for (const step of MIGRATIONS.slice(version)) db.exec(step);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}
