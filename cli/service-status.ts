// Whether each of the agent's services is running, asked of the service itself: GET /health on its
// Unix socket, <home>/socks/<service>.sock (the real agent's CLI talks to himds the same way). A
// socket that is missing or refuses is a stopped service; one we may not open, or that does not
// answer, is unknown, and the reason says why.
import http from 'node:http';
import { join } from 'node:path';
import type { HomeLayout } from '../core/index.ts';
import { adminSocket } from '../proxy/index.ts';

/** The services in the order the real agent's `show` lists them, with the names users know. */
export const AGENT_SERVICES = [
  { name: 'himds', title: 'Agent Service' },
  { name: 'arcproxy', title: 'Azure Arc Proxy' },
  { name: 'extd', title: 'Extension Service' },
  { name: 'gcad', title: 'GC Service' },
] as const;

export type ServiceName = (typeof AGENT_SERVICES)[number]['name'];
export type ServiceState = 'running' | 'stopped' | 'unknown';

export interface ServiceStatus {
  name: ServiceName;
  title: string;
  state: ServiceState;
  /** Why the state is unknown. */
  reason?: string;
  /** The /health answer of a running service. */
  health?: Record<string, unknown>;
}

const ASK_TIMEOUT_MS = 2_000;

export const serviceSocket = (home: HomeLayout, name: ServiceName): string =>
  name === 'arcproxy' ? adminSocket(home) : join(home.socks, `${name}.sock`);

export const serviceTitle = (name: ServiceName): string =>
  AGENT_SERVICES.find((s) => s.name === name)?.title ?? name;

export function askService(home: HomeLayout, name: ServiceName): Promise<ServiceStatus> {
  const title = serviceTitle(name);
  const socketPath = serviceSocket(home, name);
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/health', timeout: ASK_TIMEOUT_MS }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let health: Record<string, unknown> = {};
        try {
          health = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // it answered, so it runs; what it said is not ours to judge here
        }
        resolve({ name, title, state: 'running', health });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${ASK_TIMEOUT_MS / 1000} s`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve({ name, title, state: 'stopped' });
      else
        resolve({
          name,
          title,
          state: 'unknown',
          reason:
            err.code === 'EACCES' ? `no permission to open ${socketPath}` : `${socketPath}: ${err.message}`,
        });
    });
  });
}

export const askServices = (home: HomeLayout, names: readonly ServiceName[]): Promise<ServiceStatus[]> =>
  Promise.all(names.map((n) => askService(home, n)));
