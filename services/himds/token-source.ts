// Where HIMDS gets managed-identity tokens: a function of the resource and the connection state,
// so that tests and other deployments can plug in their own (../shared/reference/himds-identity.md
// section 3: the real upstream protocol is not public). The default asks the identity service of
// the machine's cloud, through the Arc Proxy as client `himds`, over mutual TLS with the machine
// certificate (cloud/README.md, POST /v1/machines/token).
import { decodeJwt } from 'jose';
import { AgentError, type AgentState, type HomeLayout } from '../../core/index.ts';
import { requestMachineToken, type MachineToken } from './cloud-api.ts';
import { loadMachineIdentity } from './identity.ts';
import { instanceFingerprint } from './metadata.ts';
import { machineConnections } from './machine-connection.ts';

export interface UpstreamToken {
  /** A secret: never log it. */
  accessToken: string;
  /** Unix seconds. */
  expiresOn: number;
  /** Unix seconds. */
  notBefore: number;
  tokenType: string;
  /** The identity's application (client) id and object id, when known. */
  clientId?: string | undefined;
  objectId?: string | undefined;
}

export interface TokenRequest {
  /** As the client asked for it (without `/.default`), trailing slash and all. */
  resource: string;
  state: AgentState;
}

export interface TokenSource {
  getToken(request: TokenRequest): Promise<UpstreamToken>;
  close?(): Promise<void>;
}

/** Our form of the identity service's answer; ids not in the answer are read from the token's claims. */
export function fromMachineToken(t: MachineToken, nowSeconds: number): UpstreamToken {
  let claims: { appid?: unknown; azp?: unknown; oid?: unknown } = {};
  try {
    claims = decodeJwt(t.access_token);
  } catch {
    // not a JWT: the ids stay unknown
  }
  const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return {
    accessToken: t.access_token,
    expiresOn: Number(t.expires_on),
    notBefore: /^\d+$/.test(t.not_before ?? '') ? Number(t.not_before) : nowSeconds,
    tokenType: t.token_type || 'Bearer',
    clientId: text(t.client_id) ?? text(claims.appid) ?? text(claims.azp),
    objectId: text(claims.oid),
  };
}

export interface CloudTokenSourceOptions {
  home: HomeLayout;
  /** The Arc Proxy, e.g. http://127.0.0.1:40343. */
  proxyUrl: string;
  fingerprint?: () => Promise<string>;
  now?: () => Date;
}

export function cloudTokenSource(opts: CloudTokenSourceOptions): TokenSource {
  const fingerprint = opts.fingerprint ?? instanceFingerprint;
  const now = opts.now ?? (() => new Date());
  const connections = machineConnections({ proxyUrl: opts.proxyUrl, clientId: 'himds' });

  const connection = async (state: AgentState) => {
    const identity = await loadMachineIdentity(opts.home);
    if (!identity)
      throw new AgentError('HIMDS_NOT_CONNECTED', `there is no machine certificate in ${opts.home.certs}`, {
        action: 'reconnect: azcmagent disconnect --force-local-only, then azcmagent connect',
      });
    return connections.get(state, identity);
  };

  return {
    async getToken({ resource, state }) {
      const { dispatcher, cloud } = await connection(state);
      const answer = await requestMachineToken({
        dispatcher,
        cloud,
        resource,
        fingerprint: await fingerprint(),
      });
      return fromMachineToken(answer, Math.floor(now().getTime() / 1000));
    },
    close: () => connections.close(),
  };
}
