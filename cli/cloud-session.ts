// What a command needs to talk to the cloud: the cloud profile, and an HTTP client that goes
// through the running Arc Proxy as client `azcmagent` (the CLI opens no outbound socket of its own).
import { readFile } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import {
  AgentError,
  createOutboundDispatcher,
  loadCloudProfile,
  type CloudProfile,
  type HomeLayout,
} from '../core/index.ts';
import { askService } from './service-status.ts';

export interface CloudSession {
  cloud: CloudProfile;
  proxyUrl: string;
  /** The cloud's CA (the profile's caFile), for clients of our own such as the machine's mutual TLS. */
  ca: string | undefined;
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

/** The running Arc Proxy's URL, asked of the proxy itself over its socket in <home>/socks/. */
export async function arcProxyUrl(home: HomeLayout): Promise<string> {
  const status = await askService(home, 'arcproxy');
  const port = status.health?.['port'];
  if (status.state !== 'running' || typeof port !== 'number') {
    throw new AgentError(
      'ARCPROXY_NOT_RUNNING',
      status.reason ?? `no answer on ${home.socks}/arcproxy.sock`,
      {
        action: `start the agent first: azcmagent run --home ${home.root}`,
      },
    );
  }
  return `http://127.0.0.1:${port}`;
}

export async function openCloudSession(home: HomeLayout, cloudName: string): Promise<CloudSession> {
  const cloud = await loadCloudProfile(cloudName);
  const proxyUrl = await arcProxyUrl(home);
  const ca = cloud.caFile ? await readFile(cloud.caFile, 'utf8') : undefined;
  const dispatcher = await createOutboundDispatcher({ proxyUrl, clientId: 'azcmagent', ca });
  return { cloud, proxyUrl, ca, dispatcher, close: () => dispatcher.close() };
}
