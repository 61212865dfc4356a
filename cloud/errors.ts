// The local cloud's refusals: one registry of wire codes, each with its HTTP status. ARM and the
// identity service answer `{"error":{"code","message"}}` (the ARM error contract,
// https://github.com/Azure/azure-resource-manager-rpc/blob/master/v1.0/common-api-details.md#error-response-content);
// the token endpoint answers in Entra's OAuth shape instead (see login-routes.ts). Codes that ARM
// has are spelled as ARM spells them; the identity service's are ours (cloud/README.md).
import { Type } from 'typebox';

const cloudCodes = {
  // ARM: authentication (401 with WWW-Authenticate, as ARM does).
  AuthenticationFailed: 401,
  InvalidAuthenticationToken: 401,
  InvalidAuthenticationTokenAudience: 401,
  ExpiredAuthenticationToken: 401,
  // ARM: the request.
  MissingApiVersionParameter: 400,
  InvalidApiVersionParameter: 400,
  NoRegisteredProviderFound: 400,
  InvalidRequestContent: 400,
  InvalidResourceName: 400,
  LocationNotAvailableForResourceType: 400,
  InvalidResourceLocation: 409,
  SubscriptionNotFound: 404,
  ResourceNotFound: 404,
  PreconditionFailed: 412,
  UnsupportedMediaType: 415,
  RequestEntityTooLarge: 413,
  // Identity service: the machine's client certificate and key.
  ClientCertificateRequired: 401,
  InvalidClientCertificate: 401,
  CertificateExpired: 401,
  CertificateRevoked: 401,
  MachineNotFound: 404,
  InvalidPublicKey: 400,
  InvalidCertificateRequest: 400,
  CloneDetected: 429,
  // ARM: gateways and settings/default.
  InvalidGatewayResourceId: 400,
  // Anything else.
  NotFound: 404,
  InternalServerError: 500,
} as const satisfies Record<string, number>;

export type CloudErrorCode = keyof typeof cloudCodes;

export class CloudError extends Error {
  readonly code: CloudErrorCode;
  constructor(code: CloudErrorCode, message: string) {
    super(message);
    this.name = 'CloudError';
    this.code = code;
  }

  get status(): number {
    return cloudCodes[this.code];
  }

  toJSON(): { error: { code: CloudErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/**
 * The Arc gateway's refusals of a CONNECT (its own port, cloud/README.md "The Arc gateway"): the
 * status line, the code in the x-arc-gateway-error header and the same `{"error":{"code","message"}}`
 * body. Apart from cloudCodes because the same names answer other statuses here: a gateway refuses a
 * tunnel (403), where the identity service asks for credentials (401).
 */
const gatewayCodes = {
  ClientCertificateRequired: 403,
  InvalidClientCertificate: 403,
  MachineNotAssociated: 403,
  TargetNotAllowed: 403,
  BadRequest: 400,
  TargetUnreachable: 502,
  TargetTimeout: 504,
} as const satisfies Record<string, number>;

export type GatewayErrorCode = keyof typeof gatewayCodes;

export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  constructor(code: GatewayErrorCode, message: string) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
  }

  get status(): number {
    return gatewayCodes[this.code];
  }

  toJSON(): { error: { code: GatewayErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export const isCloudError = (err: unknown): err is CloudError => err instanceof CloudError;

/** The error body, for the routes' response schemas. */
export const ErrorBodySchema = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});

/**
 * Any error as the CloudError the edge answers with: ours as they are; fastify's own refusals
 * (schema validation, bad JSON, wrong media type, body too large) as ARM names them; anything
 * else as a 500 whose message reveals nothing (the log has the cause).
 */
export function toCloudError(err: unknown): CloudError {
  if (err instanceof CloudError) return err;
  const e = err as { statusCode?: number; message?: string; validation?: unknown };
  const status = e.statusCode ?? 500;
  if (status === 415) return new CloudError('UnsupportedMediaType', e.message ?? 'unsupported media type');
  if (status === 413) return new CloudError('RequestEntityTooLarge', 'the request body is too large');
  if (status >= 400 && status < 500)
    return new CloudError('InvalidRequestContent', e.message ?? 'the request content is invalid');
  return new CloudError('InternalServerError', 'the local cloud failed the request; its log says why');
}
