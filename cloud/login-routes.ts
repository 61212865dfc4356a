// The Entra-shaped login host: the OAuth 2.0 client-credentials token endpoint (RFC 6749 section
// 4.4; Entra v2.0 form: `scope=<resource>/.default`), the JWKS that verifies its tokens, and the
// OpenID configuration that points at both. Errors use Entra's body shape and AADSTS numbers.
import { randomUUID, timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { CloudStore } from './store.ts';
import type { TokenIssuer } from './token-issuer.ts';

export interface LoginRoutesOptions {
  store: CloudStore;
  tokens: TokenIssuer;
  tokenLifetimeSeconds: number;
  now: () => Date;
}

const TokenForm = Type.Object({
  grant_type: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String()),
  client_secret: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
});

const TokenAnswer = Type.Object({
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  ext_expires_in: Type.Integer(),
  access_token: Type.String(),
});

const EntraError = Type.Object({
  error: Type.String(),
  error_description: Type.String(),
  error_codes: Type.Array(Type.Integer()),
  timestamp: Type.String(),
  trace_id: Type.String(),
  correlation_id: Type.String(),
  error_uri: Type.String(),
});

const Jwks = Type.Object({
  keys: Type.Array(Type.Object({}, { additionalProperties: true })),
});

const TenantParams = Type.Object({ tenant: Type.String() });

class EntraRefusal extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly aadsts: number,
    description: string,
  ) {
    super(`AADSTS${aadsts}: ${description}`);
  }
}

/** Secrets compared in constant time, whatever their lengths. */
const sameSecret = (a: string, b: string) =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/** client_secret_basic (RFC 6749 section 2.3.1): both parts form-urlencoded, then base64. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const m = header && /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  return { id: decode(text.slice(0, colon)), secret: decode(text.slice(colon + 1)) };
}

export const loginRoutes: FastifyPluginCallbackTypebox<LoginRoutesOptions> = (app, opts, done) => {
  const { store, tokens, now } = opts;
  const knownTenant = (t: string) => t.toLowerCase() === tokens.tenantId.toLowerCase();

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  const refuse = (reply: FastifyReply, r: EntraRefusal) => {
    const now_ = now();
    const traceId = randomUUID();
    const correlationId = randomUUID();
    const timestamp = now_
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z');
    return reply
      .code(r.status)
      .header('cache-control', 'no-store')
      .send({
        error: r.error,
        error_description: `${r.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
        error_codes: [r.aadsts],
        timestamp,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `https://${reply.request.host}/error?code=${r.aadsts}`,
      });
  };

  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof EntraRefusal) return refuse(reply, err);
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) reply.log.error({ err }, 'token endpoint failed');
    return refuse(
      reply,
      status < 500
        ? new EntraRefusal(status, 'invalid_request', 900144, (err as Error).message)
        : new EntraRefusal(
            500,
            'server_error',
            90033,
            'The local cloud failed the request; its log says why.',
          ),
    );
  });

  const tenantNotFound = (tenant: string) =>
    new EntraRefusal(
      400,
      'invalid_request',
      90002,
      `Tenant '${tenant}' not found. Check that the tenant id is the one in connect.json.`,
    );

  app.post(
    '/:tenant/oauth2/v2.0/token',
    {
      schema: {
        params: TenantParams,
        body: TokenForm,
        response: { 200: TokenAnswer, 400: EntraError, 401: EntraError },
      },
    },
    async (request, reply) => {
      const { tenant } = request.params;
      const form = request.body;
      if (!knownTenant(tenant)) throw tenantNotFound(tenant);
      if (form.grant_type !== 'client_credentials')
        throw new EntraRefusal(
          400,
          'unsupported_grant_type',
          70003,
          `The app requested an unsupported grant type '${form.grant_type ?? ''}'; only client_credentials is served.`,
        );
      const basic = basicCredentials(request.headers.authorization);
      const clientId = form.client_id ?? basic?.id;
      const secret = form.client_secret ?? basic?.secret;
      if (!clientId)
        throw new EntraRefusal(
          400,
          'invalid_request',
          900144,
          "The request body must contain the following parameter: 'client_id'.",
        );
      if (!form.scope)
        throw new EntraRefusal(
          400,
          'invalid_request',
          900144,
          "The request body must contain the following parameter: 'scope'.",
        );
      const scope = form.scope.split(/\s+/).find((s) => s.endsWith('/.default'));
      if (!scope)
        throw new EntraRefusal(
          400,
          'invalid_scope',
          1002012,
          `The provided value for scope ${form.scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
        );
      const sp = store.getServicePrincipal(clientId);
      if (!sp)
        throw new EntraRefusal(
          401,
          'invalid_client',
          700016,
          `Application with identifier '${clientId}' was not found in the directory '${tokens.tenantId}'.`,
        );
      if (secret === undefined)
        throw new EntraRefusal(
          401,
          'invalid_client',
          7000216,
          "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
        );
      if (!sameSecret(secret, sp.secret))
        throw new EntraRefusal(
          401,
          'invalid_client',
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        );
      const issued = await tokens.sign(
        {
          audience: scope.slice(0, -'/.default'.length),
          objectId: sp.objectId,
          clientId: sp.clientId,
          lifetimeSeconds: opts.tokenLifetimeSeconds,
        },
        now(),
      );
      request.log.info({ clientId, audience: scope }, 'token issued');
      return reply
        .header('cache-control', 'no-store')
        .header('pragma', 'no-cache')
        .send({
          token_type: 'Bearer' as const,
          expires_in: opts.tokenLifetimeSeconds,
          ext_expires_in: opts.tokenLifetimeSeconds,
          access_token: issued.token,
        });
    },
  );

  // The signing keys are the same for every tenant name a client may use for discovery.
  const discoveryTenant = (t: string) =>
    knownTenant(t) || ['common', 'organizations'].includes(t.toLowerCase());
  for (const path of ['/:tenant/discovery/v2.0/keys', '/:tenant/discovery/keys']) {
    app.get(
      path,
      { schema: { params: TenantParams, response: { 200: Jwks, 400: EntraError } } },
      (request, reply) => {
        const { tenant } = request.params;
        if (!discoveryTenant(tenant)) throw tenantNotFound(tenant);
        void reply.send(tokens.jwks);
      },
    );
  }

  app.get(
    '/:tenant/v2.0/.well-known/openid-configuration',
    {
      schema: {
        params: TenantParams,
        response: { 200: Type.Object({}, { additionalProperties: true }), 400: EntraError },
      },
    },
    (request, reply) => {
      const { tenant } = request.params;
      if (!knownTenant(tenant)) throw tenantNotFound(tenant);
      // Endpoints on the name the client used (a profile host through the Arc Proxy, or localhost).
      const base = `https://${request.host}/${tokens.tenantId}`;
      void reply.send({
        issuer: tokens.issuer,
        token_endpoint: `${base}/oauth2/v2.0/token`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
        grant_types_supported: ['client_credentials'],
        response_types_supported: ['token'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        tenant_region_scope: null,
        cloud_instance_name: 'arc-local.test',
      });
    },
  );
  done();
};
