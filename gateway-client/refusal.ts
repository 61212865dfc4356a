// The gateway's answers that are not a tunnel, as stable codes with the fix for each. The gateway
// names its reason in `x-arc-gateway-error` and `{"error":{"code","message"}}` (cloud/README.md).
import { AgentError } from '../core/index.ts';
import type { Gateway } from './gateway.ts';
import { type Target, formatTarget } from './hop.ts';

export interface GatewayAnswer {
  status: number | undefined;
  /** The gateway's reason code: the header, else the body's error.code. */
  code: string | undefined;
  message: string | undefined;
}

/** The gateway's reason from its answer head and (short) body. */
export function readGatewayAnswer(
  status: number | undefined,
  headers: Record<string, string>,
  body: string,
): GatewayAnswer {
  let parsed: { error?: { code?: unknown; message?: unknown } } | undefined;
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  const code = headers['x-arc-gateway-error'] ?? stringOr(parsed?.error?.code);
  return { status, code, message: stringOr(parsed?.error?.message) };
}

const stringOr = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** A DNS failure in the gateway's TargetUnreachable message (the gateway names the dial error). */
const DNS_FAILURE = /ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL|does not resolve|DNS/i;

export function gatewayRefusal(
  gateway: Gateway,
  target: Target,
  answer: GatewayAnswer,
  presentedCertificate: boolean,
): AgentError {
  const dest = formatTarget(target);
  const said = `gateway ${gateway.host} answered ${answer.status ?? 'garbage'} ${answer.code ?? ''} to CONNECT ${dest}${answer.message ? `: ${answer.message}` : ''}`;
  switch (answer.code) {
    case 'ClientCertificateRequired':
      return new AgentError('GATEWAY_CLIENT_CERT_REFUSED', said, {
        action: presentedCertificate
          ? 'the gateway saw no machine certificate although one was sent: check that nothing between this machine and the gateway terminates TLS'
          : `this machine has no identity yet, and without one the gateway serves only the onboarding endpoints: connect it first (azcmagent connect --gateway-id ${gateway.id})`,
      });
    case 'InvalidClientCertificate':
      return new AgentError('GATEWAY_CLIENT_CERT_REFUSED', said, {
        action:
          'the machine certificate is not accepted (expired, revoked, or the machine resource was deleted): reconnect with azcmagent disconnect --force-local-only, then azcmagent connect',
      });
    case 'MachineNotAssociated':
      return new AgentError('GATEWAY_CLIENT_CERT_REFUSED', said, {
        action: `associate this machine with the gateway in Azure (az arcgateway settings update --base-provider Microsoft.HybridCompute --base-resource-type machines --base-resource-name MACHINE --gateway-resource-id ${gateway.id}), or stop using it: azcmagent config set connection.type direct`,
      });
    case 'TargetNotAllowed':
      return new AgentError('GATEWAY_TARGET_NOT_SERVED', said, {
        action: `send it around the gateway (through proxy.url, or direct): azcmagent config set gateway.bypass ${dest} --add`,
      });
    case 'TargetUnreachable':
      return new AgentError(
        answer.message && DNS_FAILURE.test(answer.message)
          ? 'ARCPROXY_DNS_FAILURE'
          : 'ARCPROXY_UPSTREAM_REFUSED',
        said,
      );
    case 'TargetTimeout':
      return new AgentError('ARCPROXY_UPSTREAM_TIMEOUT', said);
    default:
      if (answer.status === 502) return new AgentError('ARCPROXY_UPSTREAM_REFUSED', said);
      if (answer.status === 504) return new AgentError('ARCPROXY_UPSTREAM_TIMEOUT', said);
      return new AgentError('GATEWAY_UNEXPECTED_ANSWER', said);
  }
}
