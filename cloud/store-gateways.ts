// The gateway half of the store (store.ts): Microsoft.HybridCompute/gateways resources and which
// gateway each machine's settings/default names. Kept apart so that store.ts stays readable.
import type Database from 'better-sqlite3';
import { fromGateway, toGateway, type GatewayRow } from './store-schema.ts';
import type { CloudStore } from './store.ts';

type GatewayMethods = Pick<
  CloudStore,
  'getGateway' | 'listGateways' | 'putGateway' | 'deleteGateway' | 'machineGateway' | 'setMachineGateway'
>;

export function gatewayStore(db: Database.Database): GatewayMethods {
  const stmt = {
    get: db.prepare<[string], GatewayRow>('SELECT * FROM gateways WHERE key = ?'),
    bySubscription: db.prepare<[string, number, number], GatewayRow>(
      'SELECT * FROM gateways WHERE subscription_id = ? ORDER BY resource_group, key LIMIT ? OFFSET ?',
    ),
    byGroup: db.prepare<[string, string, number, number], GatewayRow>(
      'SELECT * FROM gateways WHERE subscription_id = ? AND resource_group = ? ORDER BY key LIMIT ? OFFSET ?',
    ),
    put: db.prepare(
      `INSERT OR REPLACE INTO gateways (key, resource_id, subscription_id, resource_group, name, location,
         gateway_id, gateway_type, allowed_features, tags, created_at, updated_at)
       VALUES (@key, @resource_id, @subscription_id, @resource_group, @name, @location, @gateway_id,
         @gateway_type, @allowed_features, @tags, @created_at, @updated_at)`,
    ),
    delete: db.prepare('DELETE FROM gateways WHERE key = ?'),
    detachAll: db.prepare('DELETE FROM machine_settings WHERE gateway_key = ?'),
    ofMachine: db.prepare<[string], GatewayRow>(
      'SELECT g.* FROM machine_settings s JOIN gateways g ON g.key = s.gateway_key WHERE s.machine_key = ?',
    ),
    setOfMachine: db.prepare(
      `INSERT INTO machine_settings (machine_key, gateway_key, updated_at) VALUES (?, ?, ?)
       ON CONFLICT(machine_key) DO UPDATE SET gateway_key = excluded.gateway_key, updated_at = excluded.updated_at`,
    ),
  };
  return {
    getGateway: (key) => {
      const row = stmt.get.get(key);
      return row && toGateway(row);
    },
    listGateways: ({ subscriptionId, resourceGroup, offset, limit }) =>
      (resourceGroup === undefined
        ? stmt.bySubscription.all(subscriptionId, limit, offset)
        : stmt.byGroup.all(subscriptionId, resourceGroup.toLowerCase(), limit, offset)
      ).map(toGateway),
    putGateway: (g) => void stmt.put.run(fromGateway(g)),
    deleteGateway: (key) =>
      db.transaction(() => {
        const { changes } = stmt.delete.run(key);
        stmt.detachAll.run(key);
        return changes > 0;
      })(),
    machineGateway: (machineKey) => {
      const row = stmt.ofMachine.get(machineKey);
      return row && toGateway(row);
    },
    setMachineGateway: (machineKey, gatewayKey, at) =>
      void stmt.setOfMachine.run(machineKey, gatewayKey ?? null, at),
  };
}
