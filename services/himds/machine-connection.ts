// The machine's connection to its cloud: an HTTP client through the Arc Proxy that presents the
// machine certificate (mutual TLS), kept per (cloud, certificate): a renewed certificate or another
// cloud gets a new one, and the old one is closed.
import { readFile } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import {
  createOutboundDispatcher,
  loadCloudProfile,
  type AgentState,
  type CloudProfile,
} from '../../core/index.ts';
import type { MachineIdentity } from './heartbeat.ts';

export interface MachineConnection {
  dispatcher: Dispatcher;
  cloud: CloudProfile;
}

export function machineConnections(opts: { proxyUrl: string; clientId: string }) {
  let cached: (MachineConnection & { key: string }) | undefined;
  return {
    async get(
      state: AgentState,
      identity: Pick<MachineIdentity, 'certPem' | 'keyPem'>,
    ): Promise<MachineConnection> {
      const key = `${state.cloud}\n${identity.certPem}`;
      if (cached?.key !== key) {
        const previous = cached;
        const cloud = await loadCloudProfile(state.cloud);
        const ca = cloud.caFile ? await readFile(cloud.caFile, 'utf8') : undefined;
        const dispatcher = await createOutboundDispatcher({
          proxyUrl: opts.proxyUrl,
          clientId: opts.clientId,
          ca,
          cert: identity.certPem,
          key: identity.keyPem,
        });
        cached = { key, dispatcher, cloud };
        await previous?.dispatcher.close();
      }
      return cached;
    },
    async close(): Promise<void> {
      await cached?.dispatcher.close();
      cached = undefined;
    },
  };
}
