// The environment `azcmagent run` gives each child process (services and extension handlers): where
// the managed-identity and metadata endpoint is, and the Arc Proxy as the only way out, with the
// child's client id as the proxy user name so that the meter and the allow-list know who called.
// Variable names as the real agent sets them (../shared/reference/arc-cli-proxy-gateway.md, section 8).
import { AgentError } from './errors.ts';

export interface ServiceEnvOptions {
  /** Who the child is (himds, extd, gcad, or an extension's name); shows in `azcmagent proxy stats`. */
  clientId: string;
  /** The Arc Proxy's port on 127.0.0.1 (40343 in production). */
  proxyPort: number;
  /** HIMDS's port on 127.0.0.1 (40342 in production). */
  himdsPort: number;
  /** The environment to start from (the agent's own); its proxy variables are replaced, not merged. */
  base?: NodeJS.ProcessEnv;
}

/** Client ids the Arc Proxy accepts as a name (proxy/client-id.ts); anything else would meter as anonymous. */
const CLIENT_ID = /^[A-Za-z0-9._@-]{1,64}$/;

/** Loopback only: HIMDS is on 127.0.0.1 and must not go through the proxy; everything else must. */
export const SERVICE_NO_PROXY = 'localhost,127.0.0.1,::1';

const checkPort = (name: string, port: number) => {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new AgentError('ARGUMENT_INVALID', `${name} ${port}: a port from 1 to 65535`);
};

/**
 * The child's environment. Lower-case proxy variables are set too and win over any in `base`: curl
 * and undici read the lower-case ones first (curl reads only `http_proxy` for http:// URLs), so an
 * enterprise proxy left in the agent's own environment would otherwise bypass the Arc Proxy. NO_PROXY
 * from `base` is dropped for the same reason: every non-loopback destination is metered.
 */
export function serviceEnvironment({
  clientId,
  proxyPort,
  himdsPort,
  base = {},
}: ServiceEnvOptions): NodeJS.ProcessEnv {
  if (!CLIENT_ID.test(clientId))
    throw new AgentError('ARGUMENT_INVALID', `client id ${JSON.stringify(clientId.slice(0, 80))}`, {
      action: 'use 1 to 64 letters, digits, dots, dashes, underscores or @',
    });
  checkPort('proxy port', proxyPort);
  checkPort('HIMDS port', himdsPort);
  const proxy = `http://${encodeURIComponent(clientId)}@127.0.0.1:${proxyPort}`;
  const imds = `http://127.0.0.1:${himdsPort}`;
  return {
    ...base,
    IDENTITY_ENDPOINT: `${imds}/metadata/identity/oauth2/token`,
    IMDS_ENDPOINT: imds,
    HTTPS_PROXY: proxy,
    HTTP_PROXY: proxy,
    https_proxy: proxy,
    http_proxy: proxy,
    NO_PROXY: SERVICE_NO_PROXY,
    no_proxy: SERVICE_NO_PROXY,
  };
}
