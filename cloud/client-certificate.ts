// Mutual TLS for the identity service's machine routes (and the Arc gateway's CONNECTs). The TLS layer asks every client for a
// certificate but lets connections without one through (requestCert, rejectUnauthorized false), so
// the other routes on the port keep working for clients without one; these routes check it
// themselves, against the injected clock: issued by our CA, valid now, issued to a machine that
// still exists, and not replaced by a newer registration.
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { checkCertificate, thumbprint } from '../certs/index.ts';
import { CloudError } from './errors.ts';
import type { CertificateRecord, CloudStore, MachineRecord } from './store.ts';

/** The certificate the client presented on this connection, if any. */
export const peerCertificate = (request: FastifyRequest): X509Certificate | undefined =>
  socketCertificate(request.raw.socket as Partial<TLSSocket>);

/** The same for a bare socket (the gateway's CONNECT handler owns the socket, not a request). */
export function socketCertificate(socket: Partial<TLSSocket>): X509Certificate | undefined {
  if (typeof socket.getPeerCertificate !== 'function') return undefined; // inject(), or plain HTTP
  const peer = socket.getPeerCertificate(false);
  if (!peer?.raw) return undefined;
  return new X509Certificate(peer.raw);
}

export interface AuthenticatedMachine {
  machine: MachineRecord;
  certificate: CertificateRecord;
}

/** The machine a client certificate stands for, or the refusal. */
export function authenticateMachine(
  cert: X509Certificate | undefined,
  opts: { caCert: X509Certificate; store: CloudStore; now: Date },
): AuthenticatedMachine {
  if (!cert)
    throw new CloudError(
      'ClientCertificateRequired',
      'This route needs the machine certificate as the TLS client certificate.',
    );
  const check = checkCertificate(cert, opts.caCert, opts.now);
  if (!check.ok && check.reason === 'expired')
    throw new CloudError(
      'CertificateExpired',
      `The machine certificate expired at ${new Date(cert.validTo).toISOString()}; the machine is Expired and must be connected again.`,
    );
  if (!check.ok)
    throw new CloudError(
      'InvalidClientCertificate',
      `The client certificate is not accepted (${check.reason}).`,
    );
  const record = opts.store.getCertificate(thumbprint(cert, 'sha256'));
  if (!record)
    throw new CloudError('InvalidClientCertificate', 'The client certificate was not issued to a machine.');
  if (record.revokedReason === 'deleted')
    throw new CloudError('MachineNotFound', 'The machine resource of this certificate has been deleted.');
  if (record.revokedAt)
    throw new CloudError(
      'CertificateRevoked',
      'This certificate was replaced when the machine registered again; use the newer identity.',
    );
  const machine = opts.store.getMachine(record.machineKey);
  if (!machine)
    throw new CloudError('MachineNotFound', 'The machine resource of this certificate does not exist.');
  return { machine, certificate: record };
}
