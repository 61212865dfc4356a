// Why an endpoint failed, as a short class a user (or a script) can act on, from the stable error
// code of the step that failed: never from message text. The fix is the error's action.
import type { ErrorCode } from '../../core/index.ts';
import type { StepName } from './probe.ts';

export type Cause =
  | 'allow-list-denied'
  | 'dns'
  | 'not-private'
  | 'tcp-refused'
  | 'tcp-timeout'
  | 'connection-reset'
  | 'proxy-auth'
  | 'proxy-refused'
  | 'proxy-unreachable'
  | 'proxy-tls'
  | 'gateway-unreachable'
  | 'gateway-refused'
  | 'gateway-not-served'
  | 'tls-inspection'
  | 'tls'
  | 'no-http-answer'
  | 'other';

const BY_CODE: Partial<Record<ErrorCode, Cause>> = {
  ARCPROXY_DENIED: 'allow-list-denied',
  ARCPROXY_DNS_FAILURE: 'dns',
  ENDPOINT_NOT_PRIVATE: 'not-private',
  ARCPROXY_UPSTREAM_REFUSED: 'tcp-refused',
  ARCPROXY_UPSTREAM_TIMEOUT: 'tcp-timeout',
  ARCPROXY_UPSTREAM_RESET: 'connection-reset',
  ARCPROXY_UPSTREAM_PROXY_AUTH: 'proxy-auth',
  ARCPROXY_UPSTREAM_PROXY_REFUSED: 'proxy-refused',
  ARCPROXY_UPSTREAM_PROXY_UNREACHABLE: 'proxy-unreachable',
  ARCPROXY_UPSTREAM_TLS: 'proxy-tls',
  GATEWAY_UNREACHABLE: 'gateway-unreachable',
  GATEWAY_TLS_INSPECTION: 'tls-inspection',
  GATEWAY_CLIENT_CERT_REFUSED: 'gateway-refused',
  GATEWAY_TARGET_NOT_SERVED: 'gateway-not-served',
  ENDPOINT_TLS_INSPECTION: 'tls-inspection',
  ENDPOINT_TLS_FAILED: 'tls',
};

/**
 * The cause class of a failed step. A timeout or reset after the TLS handshake is not the network
 * refusing a connection but the endpoint not answering HTTP, hence the step.
 */
export function causeOf(step: StepName, code: ErrorCode): Cause {
  if (step === 'http' && (code === 'ARCPROXY_UPSTREAM_TIMEOUT' || code === 'ARCPROXY_UPSTREAM_RESET'))
    return 'no-http-answer';
  return BY_CODE[code] ?? 'other';
}
