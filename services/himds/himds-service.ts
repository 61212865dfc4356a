// Starting HIMDS: the app (himds-app.ts) on 127.0.0.1:40342, the port the real agent uses and that
// clients assume when IDENTITY_ENDPOINT is unset. Loopback only: anything that reaches HIMDS can ask
// for a challenge, and the challenge's privilege check (reading the key file) only means something
// for processes on this machine.
import { isIP, type AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { AgentError } from '../../core/index.ts';
import { buildHimdsApp, TOKEN_PATH, type HimdsAppOptions } from './himds-app.ts';

export const DEFAULT_HIMDS_PORT = 40342;

export interface HimdsServiceOptions extends HimdsAppOptions {
  /** 40342 by default; 0 picks a free port (tests). */
  port?: number;
  /** 127.0.0.1 by default; only loopback addresses are accepted. */
  host?: string;
}

export interface HimdsService {
  app: FastifyInstance;
  address: AddressInfo;
  /** http://127.0.0.1:<port>, what IMDS_ENDPOINT says. */
  url: string;
  /** <url>/metadata/identity/oauth2/token, what IDENTITY_ENDPOINT says. */
  identityEndpoint: string;
  /** Stops listening and removes unanswered challenge files. */
  stop(): Promise<void>;
}

/** True for 127.0.0.0/8, ::1 and localhost; IPv4-mapped loopback too. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

export async function startHimds(opts: HimdsServiceOptions): Promise<HimdsService> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? DEFAULT_HIMDS_PORT;
  if (!isLoopbackAddress(host)) throw new AgentError('HIMDS_NOT_LOOPBACK', `refusing to listen on ${host}`);
  const app = buildHimdsApp(opts);
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close();
    throw err;
  }
  const address = app.server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostPart}:${address.port}`;
  opts.log.info({ address: address.address, port: address.port }, 'HIMDS listening');
  return {
    app,
    address,
    url,
    identityEndpoint: `${url}${TOKEN_PATH}`,
    stop: () => app.close(),
  };
}
