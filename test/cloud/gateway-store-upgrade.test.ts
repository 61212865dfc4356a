// A database written before gateways existed (schema 1) is upgraded in place at the next start:
// its machines stay, and the gateway tables and the cloud's own gateway appear.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLocalCloud } from '../../cloud/index.ts';
import { createAndRegister, startTestCloud, tempDir } from './helpers.ts';

describe('schema 1 -> 2', () => {
  it('keeps the machines and adds the gateway', async () => {
    const dataDir = tempDir();
    const t = await startTestCloud({ dataDir });
    const m = await createAndRegister(t, 'old-timer');
    await t.close();
    // Back to what the previous release wrote: no gateway tables, no gateway, user_version 1.
    const db = new Database(join(dataDir, 'cloud.db'));
    db.exec("DROP TABLE gateways; DROP TABLE machine_settings; DELETE FROM meta WHERE key = 'gatewayId';");
    db.pragma('user_version = 1');
    db.close();

    const cloud = await startLocalCloud({ dataDir, port: 0 });
    try {
      expect(cloud.gateway.id).toContain('/gateways/arc-local-gateway');
      const again = new Database(join(dataDir, 'cloud.db'), { readonly: true });
      expect(again.pragma('user_version', { simple: true })).toBe(2);
      expect(again.prepare('SELECT resource_id FROM machines').all()).toEqual([{ resource_id: m.id }]);
      again.close();
    } finally {
      await cloud.close();
    }
  });
});
