// The local cloud's state in SQLite (better-sqlite3): its keys, service principals, machines, the
// certificates issued to them, a bounded heartbeat log, Arc gateways and which gateway each machine's
// settings/default names. Synchronous by design: each request does
// a few indexed reads and writes, and SQLite's own locking keeps every statement atomic. A restart
// of the cloud reads it all back; nothing is kept only in memory.
import Database from 'better-sqlite3';
import { chmodSync } from 'node:fs';
import {
  migrate,
  orUndefined,
  toCertificate,
  toMachine,
  type CertificateRow,
  type MachineRow,
} from './store-schema.ts';
import { gatewayStore } from './store-gateways.ts';

/** Heartbeats kept per machine; older ones are deleted as new ones arrive. */
const HEARTBEATS_KEPT = 200;

export interface ServicePrincipal {
  clientId: string;
  objectId: string;
  /** A secret: never log it. */
  secret: string;
  displayName: string;
  createdAt: string;
}

export interface MachineRecord {
  key: string;
  resourceId: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  properties: Record<string, unknown>;
  vmId: string;
  principalId: string;
  clientId: string;
  createdAt: string;
  updatedAt: string;
  fingerprint?: string | undefined;
  registeredAt?: string | undefined;
  lastHeartbeat?: string | undefined;
  connectedSince?: string | undefined;
  agentVersion?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export interface CertificateRecord {
  thumbprint: string;
  serial: string;
  machineKey: string;
  certificatePem: string;
  notBefore: string;
  notAfter: string;
  issuedAt: string;
  revokedAt?: string | undefined;
  revokedReason?: 'replaced' | 'deleted' | undefined;
}

/** A Microsoft.HybridCompute/gateways resource. */
export interface GatewayRecord {
  key: string;
  resourceId: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  /** The guid ARM shows as properties.gatewayId; the endpoint is https://<guid>.gw.<domain>. */
  gatewayId: string;
  gatewayType: string;
  allowedFeatures: string[];
  tags: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export interface HeartbeatRecord {
  machineKey: string;
  receivedAt: string;
  reportedTime?: string | undefined;
  agentVersion?: string | undefined;
  fingerprint: string;
  outcome: 'accepted' | 'clone';
}

export interface CloudStore {
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  getKey(name: string): { privateKeyPem: string; certificatePem?: string | undefined } | undefined;
  putKey(name: string, privateKeyPem: string, certificatePem: string | undefined, at: string): void;
  getServicePrincipal(clientId: string): ServicePrincipal | undefined;
  listServicePrincipals(): ServicePrincipal[];
  addServicePrincipal(sp: ServicePrincipal): void;
  getMachine(key: string): MachineRecord | undefined;
  /** One page of machines of a subscription (and resource group, if given), ordered by group and name. */
  listMachines(q: {
    subscriptionId: string;
    resourceGroup?: string;
    offset: number;
    limit: number;
  }): MachineRecord[];
  putMachine(m: MachineRecord): void;
  /** Deletes the machine and revokes its certificates; false if there was none. */
  deleteMachine(key: string, at: string): boolean;
  addCertificate(c: CertificateRecord): void;
  getCertificate(thumbprint: string): CertificateRecord | undefined;
  /** The newest certificate issued to a machine that is not revoked. */
  latestCertificate(machineKey: string): CertificateRecord | undefined;
  revokeCertificates(machineKey: string, at: string, reason: 'replaced' | 'deleted'): void;
  addHeartbeat(h: HeartbeatRecord): void;
  heartbeats(machineKey: string): HeartbeatRecord[];
  getGateway(key: string): GatewayRecord | undefined;
  /** One page of gateways of a subscription (and resource group, if given), ordered by group and name. */
  listGateways(q: {
    subscriptionId: string;
    resourceGroup?: string;
    offset: number;
    limit: number;
  }): GatewayRecord[];
  putGateway(g: GatewayRecord): void;
  /** Deletes the gateway and detaches every machine associated with it; false if there was none. */
  deleteGateway(key: string): boolean;
  /** The gateway a machine's settings/default names (undefined: none). */
  machineGateway(machineKey: string): GatewayRecord | undefined;
  /** Sets (or, with undefined, clears) the gateway of a machine's settings/default. */
  setMachineGateway(machineKey: string, gatewayKey: string | undefined, at: string): void;
  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/** Opens (creating if needed) the database at `path`; ':memory:' for a throwaway one. */
export function openCloudStore(path: string): CloudStore {
  const db = new Database(path);
  if (path !== ':memory:') chmodSync(path, 0o600);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  migrate(db);

  const stmt = {
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    ),
    getKey: db.prepare<[string], { private_key_pem: string; certificate_pem: string | null }>(
      'SELECT private_key_pem, certificate_pem FROM keys WHERE name = ?',
    ),
    putKey: db.prepare(
      `INSERT INTO keys (name, private_key_pem, certificate_pem, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET private_key_pem = excluded.private_key_pem,
         certificate_pem = excluded.certificate_pem, created_at = excluded.created_at`,
    ),
    getSp: db.prepare<[string], Record<string, string>>(
      'SELECT * FROM service_principals WHERE client_id = ?',
    ),
    listSp: db.prepare<[], Record<string, string>>('SELECT * FROM service_principals ORDER BY created_at'),
    addSp: db.prepare(
      'INSERT INTO service_principals (client_id, object_id, secret, display_name, created_at) VALUES (?, ?, ?, ?, ?)',
    ),
    getMachine: db.prepare<[string], MachineRow>('SELECT * FROM machines WHERE key = ?'),
    listBySubscription: db.prepare<[string, number, number], MachineRow>(
      'SELECT * FROM machines WHERE subscription_id = ? ORDER BY resource_group, key LIMIT ? OFFSET ?',
    ),
    listByGroup: db.prepare<[string, string, number, number], MachineRow>(
      'SELECT * FROM machines WHERE subscription_id = ? AND resource_group = ? ORDER BY key LIMIT ? OFFSET ?',
    ),
    putMachine: db.prepare(
      `INSERT OR REPLACE INTO machines (key, resource_id, subscription_id, resource_group, name, location, tags,
         properties, vm_id, principal_id, client_id, created_at, updated_at, fingerprint, registered_at,
         last_heartbeat, connected_since, agent_version, metadata)
       VALUES (@key, @resource_id, @subscription_id, @resource_group, @name, @location, @tags, @properties,
         @vm_id, @principal_id, @client_id, @created_at, @updated_at, @fingerprint, @registered_at,
         @last_heartbeat, @connected_since, @agent_version, @metadata)`,
    ),
    deleteMachine: db.prepare('DELETE FROM machines WHERE key = ?'),
    deleteHeartbeats: db.prepare('DELETE FROM heartbeats WHERE machine_key = ?'),
    addCert: db.prepare(
      `INSERT INTO certificates (thumbprint, serial, machine_key, certificate_pem, not_before, not_after, issued_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    getCert: db.prepare<[string], CertificateRow>('SELECT * FROM certificates WHERE thumbprint = ?'),
    latestCert: db.prepare<[string], CertificateRow>(
      `SELECT * FROM certificates WHERE machine_key = ? AND revoked_at IS NULL
       ORDER BY not_after DESC, issued_at DESC LIMIT 1`,
    ),
    revokeCerts: db.prepare(
      'UPDATE certificates SET revoked_at = ?, revoked_reason = ? WHERE machine_key = ? AND revoked_at IS NULL',
    ),
    addHeartbeat: db.prepare(
      `INSERT INTO heartbeats (machine_key, received_at, reported_time, agent_version, fingerprint, outcome)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    trimHeartbeats: db.prepare(
      `DELETE FROM heartbeats WHERE machine_key = ? AND id NOT IN
         (SELECT id FROM heartbeats WHERE machine_key = ? ORDER BY id DESC LIMIT ${HEARTBEATS_KEPT})`,
    ),
    heartbeats: db.prepare<[string], Record<string, string | null>>(
      'SELECT * FROM heartbeats WHERE machine_key = ? ORDER BY id',
    ),
    deleteMachineSettings: db.prepare('DELETE FROM machine_settings WHERE machine_key = ?'),
  };

  const toSp = (r: Record<string, string>): ServicePrincipal => ({
    clientId: r['client_id']!,
    objectId: r['object_id']!,
    secret: r['secret']!,
    displayName: r['display_name']!,
    createdAt: r['created_at']!,
  });

  return {
    getMeta: (key) => stmt.getMeta.get(key)?.value,
    setMeta: (key, value) => void stmt.setMeta.run(key, value),
    getKey: (name) => {
      const row = stmt.getKey.get(name);
      return row && { privateKeyPem: row.private_key_pem, certificatePem: orUndefined(row.certificate_pem) };
    },
    putKey: (name, privateKeyPem, certificatePem, at) =>
      void stmt.putKey.run(name, privateKeyPem, certificatePem ?? null, at),
    getServicePrincipal: (clientId) => {
      const row = stmt.getSp.get(clientId);
      return row && toSp(row);
    },
    listServicePrincipals: () => stmt.listSp.all().map(toSp),
    addServicePrincipal: (sp) =>
      void stmt.addSp.run(sp.clientId, sp.objectId, sp.secret, sp.displayName, sp.createdAt),
    getMachine: (key) => {
      const row = stmt.getMachine.get(key);
      return row && toMachine(row);
    },
    listMachines: ({ subscriptionId, resourceGroup, offset, limit }) =>
      (resourceGroup === undefined
        ? stmt.listBySubscription.all(subscriptionId, limit, offset)
        : stmt.listByGroup.all(subscriptionId, resourceGroup.toLowerCase(), limit, offset)
      ).map(toMachine),
    putMachine: (m) =>
      void stmt.putMachine.run({
        key: m.key,
        resource_id: m.resourceId,
        subscription_id: m.subscriptionId,
        resource_group: m.resourceGroup.toLowerCase(),
        name: m.name,
        location: m.location,
        tags: JSON.stringify(m.tags),
        properties: JSON.stringify(m.properties),
        vm_id: m.vmId,
        principal_id: m.principalId,
        client_id: m.clientId,
        created_at: m.createdAt,
        updated_at: m.updatedAt,
        fingerprint: m.fingerprint ?? null,
        registered_at: m.registeredAt ?? null,
        last_heartbeat: m.lastHeartbeat ?? null,
        connected_since: m.connectedSince ?? null,
        agent_version: m.agentVersion ?? null,
        metadata: m.metadata === undefined ? null : JSON.stringify(m.metadata),
      }),
    deleteMachine: (key, at) =>
      db.transaction(() => {
        const { changes } = stmt.deleteMachine.run(key);
        stmt.revokeCerts.run(at, 'deleted', key);
        stmt.deleteHeartbeats.run(key);
        stmt.deleteMachineSettings.run(key);
        return changes > 0;
      })(),
    addCertificate: (c) =>
      void stmt.addCert.run(
        c.thumbprint,
        c.serial,
        c.machineKey,
        c.certificatePem,
        c.notBefore,
        c.notAfter,
        c.issuedAt,
      ),
    getCertificate: (thumbprint) => {
      const row = stmt.getCert.get(thumbprint);
      return row && toCertificate(row);
    },
    latestCertificate: (machineKey) => {
      const row = stmt.latestCert.get(machineKey);
      return row && toCertificate(row);
    },
    revokeCertificates: (machineKey, at, reason) => void stmt.revokeCerts.run(at, reason, machineKey),
    addHeartbeat: (h) => {
      stmt.addHeartbeat.run(
        h.machineKey,
        h.receivedAt,
        h.reportedTime ?? null,
        h.agentVersion ?? null,
        h.fingerprint,
        h.outcome,
      );
      stmt.trimHeartbeats.run(h.machineKey, h.machineKey);
    },
    heartbeats: (machineKey) =>
      stmt.heartbeats.all(machineKey).map((r) => ({
        machineKey: r['machine_key']!,
        receivedAt: r['received_at']!,
        reportedTime: r['reported_time'] ?? undefined,
        agentVersion: r['agent_version'] ?? undefined,
        fingerprint: r['fingerprint']!,
        outcome: r['outcome'] as HeartbeatRecord['outcome'],
      })),
    ...gatewayStore(db),
    transaction: (fn) => db.transaction(fn)(),
    close: () => db.close(),
  };
}
