// The outbound HTTP client every service uses: one undici dispatcher pointed at the Arc Proxy, with
// the service's client id as the proxy user name, so that the proxy meters and polices each call.
// undici is loaded on first use: the Arc Proxy itself does not need it, and it costs ~20 MB at load.
import type { Dispatcher } from 'undici';
import { loadUndici } from './cjs-exports.ts';

export interface OutboundOptions {
  /** The Arc Proxy, e.g. http://127.0.0.1:40343. */
  proxyUrl: string;
  /** Who is calling (himds, extd, gcad, azcmagent); shows in `azcmagent proxy stats`. */
  clientId: string;
  /** CAs for TLS to destinations (the local cloud's CA); the system's when absent. */
  ca?: string | Buffer | undefined;
  /** A client certificate and key for mutual TLS with the destination (the machine identity). */
  cert?: string | undefined;
  key?: string | undefined;
}

/** The Proxy-Authorization value that names a client to the Arc Proxy (user name, empty password). */
export const clientAuthorization = (clientId: string): string =>
  `Basic ${Buffer.from(`${clientId}:`).toString('base64')}`;

export async function createOutboundDispatcher({
  proxyUrl,
  clientId,
  ca,
  cert,
  key,
}: OutboundOptions): Promise<Dispatcher> {
  const { ProxyAgent } = await loadUndici();
  return new ProxyAgent({
    uri: proxyUrl,
    token: clientAuthorization(clientId),
    // Set explicitly: the default for http:// targets changed between undici majors (7.x vs 8.7).
    proxyTunnel: true,
    requestTls: { ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) },
  });
}
