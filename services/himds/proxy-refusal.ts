// Why the Arc Proxy refuses a tunnel, asked after a heartbeat failed: to tell "the gateway refused
// this machine" from "the cloud is down" (proxy/arc-proxy-client.ts reads the proxy's stable code).
import { isAgentError } from '../../core/index.ts';
import { parseAuthority, tunnelThroughArcProxy } from '../../proxy/index.ts';

export interface ProxyRefusal {
  /** The stable error code (core/errors.ts). */
  code: string;
  /** The proxy's message: what went wrong (it carries no secret). */
  message: string;
}

/** Opens `CONNECT target` at the Arc Proxy as `clientId`: undefined when the tunnel opens (closed again at once). */
export async function askProxyRefusal(
  proxyUrl: string,
  clientId: string,
  target: string,
  timeoutMs = 10_000,
): Promise<ProxyRefusal | undefined> {
  const authority = parseAuthority(target);
  if (!authority) return undefined;
  try {
    const tunnel = await tunnelThroughArcProxy(proxyUrl, clientId, authority, timeoutMs);
    tunnel.socket.destroy();
    return undefined;
  } catch (err) {
    return isAgentError(err) ? { code: err.code, message: err.message } : undefined;
  }
}
