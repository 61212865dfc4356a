// The identity service's request and response bodies (cloud/README.md, "Identity service").
import { Type } from 'typebox';
import { ErrorBodySchema } from './errors.ts';

const Fingerprint = Type.String({ minLength: 1, maxLength: 512 });
const Pem = Type.String({ minLength: 1, maxLength: 16 * 1024 });
const Metadata = Type.Object({}, { additionalProperties: true });

export const RegisterBody = Type.Object({
  resourceId: Type.String({ minLength: 1, maxLength: 1024 }),
  publicKey: Type.Optional(Pem),
  csr: Type.Optional(Pem),
  fingerprint: Fingerprint,
  metadata: Type.Optional(Metadata),
});
export const HeartbeatBody = Type.Object({
  fingerprint: Fingerprint,
  agentVersion: Type.Optional(Type.String({ maxLength: 64 })),
  time: Type.Optional(Type.String({ maxLength: 64 })),
  metadata: Type.Optional(Metadata),
});
export const RenewBody = Type.Object({
  publicKey: Type.Optional(Pem),
  csr: Type.Optional(Pem),
  fingerprint: Type.Optional(Fingerprint),
});
export const TokenBody = Type.Object({
  resource: Type.String({ minLength: 1, maxLength: 2048 }),
  fingerprint: Type.Optional(Fingerprint),
});

const Issued = {
  certificate: Type.String(),
  caCertificate: Type.String(),
  thumbprint: Type.String(),
  notBefore: Type.String(),
  notAfter: Type.String(),
  renewAfter: Type.String(),
};
export const RegisterAnswer = Type.Object({
  resourceId: Type.String(),
  vmId: Type.String(),
  principalId: Type.String(),
  clientId: Type.String(),
  tenantId: Type.String(),
  ...Issued,
  heartbeatIntervalSeconds: Type.Integer(),
});
export const RenewAnswer = Type.Object(Issued);
/** The machine's gateway now (core/cloud-config.ts's shape), or null. */
export const MachineGateway = Type.Union([
  Type.Object({ id: Type.String(), url: Type.String(), endpoints: Type.Array(Type.String()) }),
  Type.Null(),
]);
export const CloudConfigAnswer = Type.Object({ gateway: MachineGateway });
export const HeartbeatAnswer = Type.Object({
  status: Type.Union([Type.Literal('Connected'), Type.Literal('Disconnected'), Type.Literal('Expired')]),
  serverTime: Type.String(),
  lastStatusChange: Type.String(),
  certificateNotAfter: Type.String(),
  certificateRenewAfter: Type.String(),
  renewNow: Type.Boolean(),
  heartbeatIntervalSeconds: Type.Integer(),
  gateway: MachineGateway,
});
export const TokenAnswer = Type.Object({
  access_token: Type.String(),
  client_id: Type.String(),
  expires_in: Type.String(),
  expires_on: Type.String(),
  ext_expires_in: Type.String(),
  not_before: Type.String(),
  resource: Type.String(),
  token_type: Type.Literal('Bearer'),
});

export const identityErrors = {
  400: ErrorBodySchema,
  401: ErrorBodySchema,
  404: ErrorBodySchema,
  429: ErrorBodySchema,
};
