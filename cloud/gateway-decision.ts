// The Arc gateway's one decision per CONNECT, without sockets: who is asking (the TLS client
// certificate, already checked by the identity service's rules), whether that machine's
// settings/default names this gateway, and whether the target is one the gateway serves. Onboarding
// targets are served to anyone: a machine on a network that reaches only the gateway has no
// certificate until `azcmagent connect` has gone through.
import type { X509Certificate } from 'node:crypto';
import type { Target } from './gateway-target.ts';
import { authenticateMachine } from './client-certificate.ts';
import { GatewayError, isCloudError } from './errors.ts';
import type { CloudStore } from './store.ts';

/** The client of one gateway connection. */
export type PeerIdentity =
  | { kind: 'none' }
  | { kind: 'invalid'; reason: string }
  /** A machine with a valid certificate; `gatewayKey` is the gateway its settings/default names. */
  | { kind: 'machine'; resourceId: string; gatewayKey: string | undefined };

export interface TunnelFacts {
  target: Target;
  identity: PeerIdentity;
  /** The target is one of the onboarding endpoints (served without a certificate). */
  onboarding: boolean;
  /** The target is in the gateway's list. */
  served: boolean;
  /** This gateway: database key and ARM id (for messages). */
  gateway: { key: string; id: string };
}

export type TunnelDecision =
  { kind: 'tunnel'; machine: string | undefined } | { kind: 'refuse'; error: GatewayError };

const refuse = (code: GatewayError['code'], message: string): TunnelDecision => ({
  kind: 'refuse',
  error: new GatewayError(code, message),
});

/** Who is asking first, then what they ask for (ARM's order too). */
export function decideTunnel(f: TunnelFacts): TunnelDecision {
  const destination = `${f.target.host}:${f.target.port}`;
  const machine = f.identity.kind === 'machine' ? f.identity.resourceId : undefined;
  if (f.onboarding) return { kind: 'tunnel', machine };
  switch (f.identity.kind) {
    case 'none':
      return refuse(
        'ClientCertificateRequired',
        `${destination} needs the machine certificate as the TLS client certificate; without one this gateway serves only the onboarding endpoints.`,
      );
    case 'invalid':
      return refuse(
        'InvalidClientCertificate',
        `The client certificate is not accepted: ${f.identity.reason}`,
      );
    case 'machine':
      if (f.identity.gatewayKey !== f.gateway.key)
        return refuse(
          'MachineNotAssociated',
          `${f.identity.resourceId} is ${f.identity.gatewayKey ? 'associated with another gateway' : 'not associated with a gateway'}; associate it with ${f.gateway.id} (PUT its settings/default with this gatewayResourceId).`,
        );
  }
  if (!f.served)
    return refuse(
      'TargetNotAllowed',
      `This gateway does not serve ${destination}; reach it without the gateway.`,
    );
  return { kind: 'tunnel', machine };
}

/** The identity service's certificate rules (client-certificate.ts), as a gateway peer identity. */
export function identifyPeer(
  cert: X509Certificate | undefined,
  opts: { caCert: X509Certificate; store: CloudStore; now: Date },
): PeerIdentity {
  if (!cert) return { kind: 'none' };
  try {
    const { machine } = authenticateMachine(cert, opts);
    return {
      kind: 'machine',
      resourceId: machine.resourceId,
      gatewayKey: opts.store.machineGateway(machine.key)?.key,
    };
  } catch (err) {
    if (isCloudError(err)) return { kind: 'invalid', reason: `${err.code}: ${err.message}` };
    throw err;
  }
}
