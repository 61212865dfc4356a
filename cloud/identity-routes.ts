// The identity service (our protocol, cloud/README.md): a machine registers its public key (or a
// CSR) with an ARM token and gets a certificate from the cloud's CA; from then on it authenticates
// with that certificate (mutual TLS) to send heartbeats, renew the certificate and get tokens for
// its managed identity. A heartbeat with the right certificate but another instance fingerprint is
// a clone: 429 (../shared/reference/arc-cli-proxy-gateway.md section 8).
import type { KeyObject, X509Certificate } from 'node:crypto';
import type { GatewayConfig } from '../core/index.ts';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { commonName, issueCertificate, readCertificate } from '../certs/index.ts';
import { requireBearer, setChallenge } from './bearer.ts';
import { authenticateMachine, peerCertificate, type AuthenticatedMachine } from './client-certificate.ts';
import { ARM_AUDIENCES } from './arm-routes.ts';
import { CloudError, toCloudError } from './errors.ts';
import {
  CloudConfigAnswer,
  HeartbeatAnswer,
  HeartbeatBody,
  identityErrors,
  RegisterAnswer,
  RegisterBody,
  RenewAnswer,
  RenewBody,
  TokenAnswer,
  TokenBody,
} from './identity-schemas.ts';
import { keyToCertify } from './machine-key.ts';
import { connectionFacts, machineKey } from './machine-resource.ts';
import { machineStatus, renewAfter } from './status.ts';
import type { CertificateRecord, CloudStore, MachineRecord } from './store.ts';
import type { TokenIssuer } from './token-issuer.ts';

export interface IdentityRoutesOptions {
  store: CloudStore;
  tokens: TokenIssuer;
  caPem: string;
  caKey: KeyObject;
  caCert: X509Certificate;
  certDays: number;
  renewDays: number;
  heartbeatIntervalSeconds: number;
  identityTokenLifetimeSeconds: number;
  disconnectAfterMs: number;
  /** The gateway a machine's settings/default names now, as the machine is told (null: none). */
  gatewayOf: (machineKey: string) => GatewayConfig | null;
  now: () => Date;
}

export const identityRoutes: FastifyPluginCallbackTypebox<IdentityRoutesOptions> = (app, opts, done) => {
  const { store, tokens, now } = opts;

  app.setErrorHandler((err, request, reply) => {
    const e = toCloudError(err);
    if (e.status >= 500) request.log.error({ err }, 'identity service request failed');
    else request.log.info({ code: e.code }, e.message);
    setChallenge(reply, tokens.tenantId, e);
    return reply.code(e.status).send(e.toJSON());
  });

  const statusOf = (m: MachineRecord, at: Date) =>
    machineStatus(connectionFacts(m, store.latestCertificate(m.key)), at, {
      disconnectAfterMs: opts.disconnectAfterMs,
    });

  /** Signs a certificate for the machine's key; the caller stores it. */
  const issue = async (m: MachineRecord, key: KeyObject, at: Date) => {
    const pem = await issueCertificate({
      ca: opts.caPem,
      caKey: opts.caKey,
      subjectPublicKey: key,
      subject: commonName(m.name),
      days: opts.certDays,
      now: at,
      uris: [`urn:arc-local:machine:${m.resourceId}`],
      clientAuth: true,
    });
    const info = readCertificate(pem);
    const record: CertificateRecord = {
      thumbprint: info.sha256,
      serial: info.serialNumber,
      machineKey: m.key,
      certificatePem: pem,
      notBefore: info.notBefore.toISOString(),
      notAfter: info.notAfter.toISOString(),
      issuedAt: at.toISOString(),
    };
    const answer = {
      certificate: pem,
      caCertificate: opts.caPem,
      thumbprint: info.sha1,
      notBefore: record.notBefore,
      notAfter: record.notAfter,
      renewAfter: renewAfter(info.notAfter, opts.renewDays).toISOString(),
    };
    return { record, answer };
  };

  const machineOf = (request: FastifyRequest): AuthenticatedMachine =>
    authenticateMachine(peerCertificate(request), { caCert: opts.caCert, store, now: now() });

  const refuseClone = (m: MachineRecord, fingerprint: string | undefined) => {
    if (fingerprint === undefined || m.fingerprint === undefined || fingerprint === m.fingerprint) return;
    throw new CloudError(
      'CloneDetected',
      `Another machine is using the identity of ${m.resourceId} (its instance fingerprint differs). On the copy run: azcmagent disconnect --force-local-only, then azcmagent connect.`,
    );
  };

  app.post(
    '/v1/machines/register',
    {
      schema: { body: RegisterBody, response: { 201: RegisterAnswer, ...identityErrors } },
      // Who is asking before what they ask: a caller without a token learns nothing from validation.
      onRequest: async (request) => {
        await requireBearer(request, tokens, ARM_AUDIENCES, now());
      },
    },
    async (request, reply) => {
      const at = now();
      const { body } = request;
      const machine = store.getMachine(machineKey(body.resourceId));
      if (!machine)
        throw new CloudError(
          'ResourceNotFound',
          `The machine resource '${body.resourceId}' was not found; create it with ARM first.`,
        );
      const key = await keyToCertify(body);
      const { record, answer } = await issue(machine, key, at);
      store.transaction(() => {
        store.revokeCertificates(machine.key, at.toISOString(), 'replaced');
        store.addCertificate(record);
        store.putMachine({
          ...machine,
          fingerprint: body.fingerprint,
          registeredAt: at.toISOString(),
          lastHeartbeat: at.toISOString(),
          connectedSince: at.toISOString(),
          metadata: (body.metadata as Record<string, unknown> | undefined) ?? machine.metadata,
          updatedAt: at.toISOString(),
        });
      });
      request.log.info(
        { resourceId: machine.resourceId, thumbprint: answer.thumbprint },
        'machine registered',
      );
      return reply.code(201).send({
        resourceId: machine.resourceId,
        vmId: machine.vmId,
        principalId: machine.principalId,
        clientId: machine.clientId,
        tenantId: tokens.tenantId,
        ...answer,
        heartbeatIntervalSeconds: opts.heartbeatIntervalSeconds,
      });
    },
  );

  app.post(
    '/v1/machines/heartbeat',
    { schema: { body: HeartbeatBody, response: { 200: HeartbeatAnswer, ...identityErrors } } },
    (request, reply) => {
      const at = now();
      const { machine, certificate } = machineOf(request);
      const { body } = request;
      const beat = {
        machineKey: machine.key,
        receivedAt: at.toISOString(),
        reportedTime: body.time,
        agentVersion: body.agentVersion,
        fingerprint: body.fingerprint,
      };
      try {
        refuseClone(machine, body.fingerprint);
      } catch (err) {
        store.addHeartbeat({ ...beat, outcome: 'clone' });
        throw err;
      }
      const before = statusOf(machine, at).status;
      const updated: MachineRecord = {
        ...machine,
        lastHeartbeat: at.toISOString(),
        connectedSince: before === 'Connected' ? machine.connectedSince : at.toISOString(),
        agentVersion: body.agentVersion ?? machine.agentVersion,
        metadata: (body.metadata as Record<string, unknown> | undefined) ?? machine.metadata,
      };
      store.transaction(() => {
        store.putMachine(updated);
        store.addHeartbeat({ ...beat, outcome: 'accepted' });
      });
      const { status, since } = statusOf(updated, at);
      const renewAt = renewAfter(new Date(certificate.notAfter), opts.renewDays);
      void reply.send({
        status,
        serverTime: at.toISOString(),
        lastStatusChange: since.toISOString(),
        certificateNotAfter: certificate.notAfter,
        certificateRenewAfter: renewAt.toISOString(),
        renewNow: at.getTime() >= renewAt.getTime(),
        heartbeatIntervalSeconds: opts.heartbeatIntervalSeconds,
        gateway: opts.gatewayOf(machine.key),
      });
    },
  );

  // What the cloud says about how this machine reaches it (the agent's cloudconfig.json), read at
  // connect and whenever the agent wants it without waiting for a heartbeat.
  app.get(
    '/v1/machines/cloudconfig',
    { schema: { response: { 200: CloudConfigAnswer, ...identityErrors } } },
    (request, reply) => {
      const { machine } = machineOf(request);
      void reply.send({ gateway: opts.gatewayOf(machine.key) });
    },
  );

  app.post(
    '/v1/machines/renew',
    { schema: { body: RenewBody, response: { 200: RenewAnswer, ...identityErrors } } },
    async (request) => {
      const at = now();
      const { machine } = machineOf(request);
      const { body } = request;
      refuseClone(machine, body.fingerprint);
      const key = await keyToCertify(body);
      const { record, answer } = await issue(machine, key, at);
      // The presented certificate stays valid until it expires: if this answer is lost, the machine
      // still holds a working identity and simply renews again.
      store.addCertificate(record);
      request.log.info(
        { resourceId: machine.resourceId, thumbprint: answer.thumbprint },
        'certificate renewed',
      );
      return answer;
    },
  );

  app.post(
    '/v1/machines/token',
    { schema: { body: TokenBody, response: { 200: TokenAnswer, ...identityErrors } } },
    async (request) => {
      const at = now();
      const { machine } = machineOf(request);
      const { body } = request;
      refuseClone(machine, body.fingerprint);
      const resource = body.resource.replace(/\/\.default$/, '');
      const lifetime = opts.identityTokenLifetimeSeconds;
      const issued = await tokens.sign(
        {
          audience: resource,
          objectId: machine.principalId,
          clientId: machine.clientId,
          lifetimeSeconds: lifetime,
          extra: { xms_mirid: machine.resourceId },
        },
        at,
      );
      return {
        access_token: issued.token,
        client_id: machine.clientId,
        expires_in: String(lifetime),
        expires_on: String(issued.expiresAt),
        ext_expires_in: String(lifetime),
        not_before: String(issued.issuedAt),
        resource: body.resource,
        token_type: 'Bearer' as const,
      };
    },
  );
  done();
};
