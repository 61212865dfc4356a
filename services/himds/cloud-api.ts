// The agent's calls to the cloud, all through the Arc Proxy (the dispatcher is pointed at it):
// the Entra token endpoint, ARM for the machine resource, and the identity service (register,
// heartbeat, renew, tokens; mutual TLS with the machine certificate). Protocol: cloud/README.md.
import type { Dispatcher } from 'undici';
import {
  AgentError,
  loadUndici,
  schemaProblem,
  type CloudConfig,
  type CloudProfile,
  type ErrorCode,
  type GatewayConfig,
} from '../../core/index.ts';

export const ARM_API_VERSION = '2024-07-10';
/** Microsoft.HybridCompute/gateways and machines/settings are in the preview API versions only. */
export const GATEWAY_API_VERSION = '2024-07-31-preview';
const TIMEOUT_MS = 30_000;

export interface CallOptions {
  dispatcher: Dispatcher;
  cloud: CloudProfile;
}

interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTPS call with a JSON (or form) body; transport failures become `failCode` with the cause named. */
async function call(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: string; dispatcher: Dispatcher },
  failCode: ErrorCode,
): Promise<Answer> {
  try {
    // undici is loaded on first use: the Arc Proxy process must not pay its ~10 MB unless it calls out.
    const { request } = await loadUndici();
    const res = await request(url, {
      method: init.method,
      headers: init.headers ?? {},
      ...(init.body !== undefined ? { body: init.body } : {}),
      dispatcher: init.dispatcher,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await res.body.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.statusCode, body, headers: res.headers };
  } catch (err) {
    throw new AgentError(failCode, `${new URL(url).host}: ${transportReason(err)}`, { cause: err });
  }
}

/** Why a call never got an answer, in words; an Arc Proxy refusal names its code. */
function transportReason(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const message = e.cause?.message ?? e.message ?? String(err);
  const proxyStatus = /Proxy response \((\d+)\)/.exec(message)?.[1];
  if (proxyStatus === '403') return 'refused by the Arc Proxy allow-list (403)';
  if (proxyStatus) return `the Arc Proxy answered ${proxyStatus}`;
  return e.cause?.code ?? e.code ?? message;
}

const json = { 'content-type': 'application/json', accept: 'application/json' };
const errorText = (a: Answer) => {
  const b = a.body as
    { error?: { code?: string; message?: string } | string; error_description?: string } | undefined;
  if (typeof b?.error === 'object') return `${a.status} ${b.error.code ?? ''}: ${b.error.message ?? ''}`;
  return `${a.status} ${b?.error ?? ''} ${b?.error_description?.split('\n')[0] ?? ''}`.trim();
};

/** A token for ARM from service-principal credentials (OAuth 2.0 client credentials grant). */
export async function armTokenFromSecret(
  o: CallOptions & { tenantId: string; clientId: string; clientSecret: string },
): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: o.clientId,
    client_secret: o.clientSecret,
    scope: `${o.cloud.endpoints.arm}/.default`,
  });
  const a = await call(
    `${o.cloud.endpoints.login}/${encodeURIComponent(o.tenantId)}/oauth2/v2.0/token`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      dispatcher: o.dispatcher,
    },
    'NETWORK_CHECK_FAILED',
  );
  const token = (a.body as { access_token?: string } | undefined)?.access_token;
  if (a.status !== 200 || !token) throw new AgentError('AUTH_FAILED', errorText(a));
  return token;
}

export interface MachineResource {
  id: string;
  name: string;
  location: string;
  properties?: { vmId?: string; status?: string };
  identity?: { principalId?: string; tenantId?: string };
}

export const machineResourceId = (subscriptionId: string, resourceGroup: string, name: string) =>
  `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.HybridCompute/machines/${name}`;

const armUrl = (cloud: CloudProfile, id: string) =>
  `${cloud.endpoints.arm}${id}?api-version=${ARM_API_VERSION}`;

/** Creates the machine resource; refuses to take over one that exists (If-None-Match: *). */
export async function createMachine(
  o: CallOptions & {
    token: string;
    id: string;
    location: string;
    tags: Record<string, string>;
    properties: Record<string, unknown>;
  },
): Promise<MachineResource> {
  const a = await call(
    armUrl(o.cloud, o.id),
    {
      method: 'PUT',
      headers: { ...json, authorization: `Bearer ${o.token}`, 'if-none-match': '*' },
      body: JSON.stringify({
        location: o.location,
        tags: o.tags,
        identity: { type: 'SystemAssigned' },
        properties: o.properties,
      }),
      dispatcher: o.dispatcher,
    },
    'NETWORK_CHECK_FAILED',
  );
  if (a.status === 409 || a.status === 412) throw new AgentError('RESOURCE_EXISTS', o.id);
  if (a.status === 401 || a.status === 403) throw new AgentError('AUTH_FAILED', errorText(a));
  if (a.status !== 200 && a.status !== 201) throw new AgentError('RESOURCE_CREATE_FAILED', errorText(a));
  return a.body as MachineResource;
}

export async function deleteMachine(o: CallOptions & { token: string; id: string }): Promise<void> {
  const a = await call(
    armUrl(o.cloud, o.id),
    { method: 'DELETE', headers: { ...json, authorization: `Bearer ${o.token}` }, dispatcher: o.dispatcher },
    'RESOURCE_DELETE_FAILED',
  );
  if (a.status === 401 || a.status === 403) throw new AgentError('AUTH_FAILED', errorText(a));
  if (a.status !== 200 && a.status !== 202 && a.status !== 204 && a.status !== 404) {
    throw new AgentError('RESOURCE_DELETE_FAILED', errorText(a));
  }
}

export interface IssuedIdentity {
  vmId?: string;
  certificate: string;
  /** The cloud CA the certificate chains to (register and renew both return it). */
  caCertificate: string;
  notBefore?: string;
  notAfter: string;
  renewAfter?: string;
  heartbeatIntervalSeconds?: number;
}

const his = (cloud: CloudProfile, path: string) => `${cloud.endpoints.hisGlobal}${path}`;

/** Registers the machine's public key with the identity service; the answer holds its certificate. */
export async function registerIdentity(
  o: CallOptions & {
    token: string;
    resourceId: string;
    publicKey: string;
    fingerprint: string;
    metadata: unknown;
  },
): Promise<IssuedIdentity> {
  const a = await call(
    his(o.cloud, '/v1/machines/register'),
    {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${o.token}` },
      body: JSON.stringify({
        resourceId: o.resourceId,
        publicKey: o.publicKey,
        fingerprint: o.fingerprint,
        metadata: o.metadata,
      }),
      dispatcher: o.dispatcher,
    },
    'IDENTITY_REGISTRATION_FAILED',
  );
  if (a.status !== 200 && a.status !== 201)
    throw new AgentError('IDENTITY_REGISTRATION_FAILED', errorText(a));
  return a.body as IssuedIdentity;
}

export interface HeartbeatAnswer {
  status: 'Connected' | 'Disconnected' | 'Expired';
  serverTime?: string;
  certificateRenewAfter?: string;
  heartbeatIntervalSeconds?: number;
  /** The machine's gateway association now (null: none); absent from a cloud without gateways. Unchecked. */
  gateway?: GatewayConfig | null;
}

/** A heartbeat over mutual TLS (the dispatcher carries the machine certificate). */
export async function sendHeartbeat(
  o: CallOptions & { fingerprint: string; agentVersion: string; metadata: unknown; now: Date },
): Promise<HeartbeatAnswer> {
  const a = await call(
    his(o.cloud, '/v1/machines/heartbeat'),
    {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        fingerprint: o.fingerprint,
        agentVersion: o.agentVersion,
        time: o.now.toISOString(),
        metadata: o.metadata,
      }),
      dispatcher: o.dispatcher,
    },
    'CLOUD_REQUEST_FAILED',
  );
  if (a.status === 429) throw new AgentError('CLONE_DETECTED', errorText(a));
  if (a.status === 401) throw new AgentError('IDENTITY_EXPIRED', errorText(a));
  if (a.status !== 200) throw new AgentError('CLOUD_REQUEST_FAILED', `heartbeat: ${errorText(a)}`);
  return a.body as HeartbeatAnswer;
}

export async function renewIdentity(o: CallOptions & { publicKey: string }): Promise<IssuedIdentity> {
  const a = await call(
    his(o.cloud, '/v1/machines/renew'),
    {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ publicKey: o.publicKey }),
      dispatcher: o.dispatcher,
    },
    'CLOUD_REQUEST_FAILED',
  );
  if (a.status === 401) throw new AgentError('IDENTITY_EXPIRED', errorText(a));
  if (a.status !== 200) throw new AgentError('CLOUD_REQUEST_FAILED', `renew: ${errorText(a)}`);
  return a.body as IssuedIdentity;
}

/** The identity service's answer for a managed-identity token (cloud/README.md); values are strings. */
export interface MachineToken {
  /** A secret: never log it. */
  access_token: string;
  client_id?: string;
  expires_in: string;
  expires_on: string;
  not_before?: string;
  resource: string;
  token_type: string;
}

/** A token for `resource` for this machine's managed identity, over mutual TLS (the dispatcher carries the machine certificate). */
export async function requestMachineToken(
  o: CallOptions & { resource: string; fingerprint?: string },
): Promise<MachineToken> {
  const a = await call(
    his(o.cloud, '/v1/machines/token'),
    {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        resource: o.resource,
        ...(o.fingerprint ? { fingerprint: o.fingerprint } : {}),
      }),
      dispatcher: o.dispatcher,
    },
    'CLOUD_REQUEST_FAILED',
  );
  if (a.status === 429) throw new AgentError('CLONE_DETECTED', errorText(a));
  if (a.status === 401) throw new AgentError('IDENTITY_EXPIRED', errorText(a));
  if (a.status !== 200) throw new AgentError('CLOUD_REQUEST_FAILED', `token: ${errorText(a)}`);
  const t = a.body as Partial<MachineToken> | undefined;
  if (typeof t?.access_token !== 'string' || !/^\d+$/.test(String(t.expires_on)))
    throw new AgentError('CLOUD_REQUEST_FAILED', 'token: the answer has no access_token or expires_on');
  return t as MachineToken;
}

const GATEWAY_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.HybridCompute\/gateways\/[^/]+$/i;

/** Whether `id` has the shape of a gateway's ARM id (ARM matches it case-insensitively). */
export const isGatewayResourceId = (id: string): boolean => GATEWAY_ID.test(id);

export interface GatewayResource {
  id: string;
  name?: string;
  properties?: { gatewayId?: string; gatewayEndpoint?: string; gatewayType?: string };
}

/** The gateway resource from ARM; its properties.gatewayEndpoint is the URL the Arc Proxy dials. */
export async function getGateway(
  o: CallOptions & { token: string; id: string },
): Promise<GatewayResource & { endpoint: string }> {
  const a = await call(
    `${o.cloud.endpoints.arm}${o.id}?api-version=${GATEWAY_API_VERSION}`,
    { method: 'GET', headers: { ...json, authorization: `Bearer ${o.token}` }, dispatcher: o.dispatcher },
    'NETWORK_CHECK_FAILED',
  );
  if (a.status === 404 || a.status === 400)
    throw new AgentError('GATEWAY_ID_INVALID', `${o.id}: ${errorText(a)}`);
  if (a.status === 401 || a.status === 403) throw new AgentError('AUTH_FAILED', errorText(a));
  if (a.status !== 200) throw new AgentError('CLOUD_REQUEST_FAILED', `gateway ${o.id}: ${errorText(a)}`);
  const gateway = a.body as GatewayResource;
  const endpoint = gateway.properties?.gatewayEndpoint;
  if (typeof endpoint !== 'string' || !endpoint.startsWith('https://'))
    throw new AgentError('CLOUD_REQUEST_FAILED', `gateway ${o.id} has no https gatewayEndpoint`);
  return { ...gateway, endpoint };
}

/**
 * Associates the machine with a gateway (null: detaches it): PUT of the machine's
 * Microsoft.HybridCompute/settings/default, as `az arcgateway settings update` does (reference 6.2).
 */
export async function associateGateway(
  o: CallOptions & { token: string; machineId: string; gatewayId: string | null },
): Promise<void> {
  const a = await call(
    `${o.cloud.endpoints.arm}${o.machineId}/providers/Microsoft.HybridCompute/settings/default?api-version=${GATEWAY_API_VERSION}`,
    {
      method: 'PUT',
      headers: { ...json, authorization: `Bearer ${o.token}` },
      body: JSON.stringify({ properties: { gatewayProperties: { gatewayResourceId: o.gatewayId } } }),
      dispatcher: o.dispatcher,
    },
    'GATEWAY_ASSOCIATION_FAILED',
  );
  const code = (a.body as { error?: { code?: string } } | undefined)?.error?.code;
  if (code === 'InvalidGatewayResourceId') throw new AgentError('GATEWAY_ID_INVALID', errorText(a));
  if (a.status === 401) throw new AgentError('AUTH_FAILED', errorText(a));
  if (a.status !== 200 && a.status !== 201) throw new AgentError('GATEWAY_ASSOCIATION_FAILED', errorText(a));
}

/** What the cloud says about how this machine reaches it (its gateway), over mutual TLS. */
export async function fetchCloudConfig(o: CallOptions): Promise<CloudConfig> {
  const a = await call(
    his(o.cloud, '/v1/machines/cloudconfig'),
    { method: 'GET', headers: json, dispatcher: o.dispatcher },
    'CLOUD_REQUEST_FAILED',
  );
  if (a.status === 401) throw new AgentError('IDENTITY_EXPIRED', errorText(a));
  if (a.status !== 200) throw new AgentError('CLOUD_REQUEST_FAILED', `cloudconfig: ${errorText(a)}`);
  const problem = await schemaProblem('CloudConfigSchema', a.body);
  if (problem)
    throw new AgentError(
      'CLOUD_REQUEST_FAILED',
      `cloudconfig: the answer does not fit: ${problem.instancePath || '/'} ${problem.message}`,
    );
  return a.body as CloudConfig;
}
