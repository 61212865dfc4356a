// Socket and undici errors on the way to a destination, as stable error codes.
import { AgentError } from '../core/index.ts';

/** A socket error as a stable code; `what` names the peer without secrets. */
export function dialError(err: NodeJS.ErrnoException, what: string): AgentError {
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return new AgentError('ARCPROXY_DNS_FAILURE', `${what} (${err.code})`, { cause: err });
    case 'ECONNREFUSED':
      return new AgentError('ARCPROXY_UPSTREAM_REFUSED', `${what} (${err.code})`, { cause: err });
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new AgentError('ARCPROXY_UPSTREAM_TIMEOUT', `${what} (${err.code})`, { cause: err });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new AgentError('ARCPROXY_UPSTREAM_REFUSED', `${what} (${err.code})`, { cause: err });
    default:
      return new AgentError('ARCPROXY_UPSTREAM_RESET', `${what} (${err.code ?? err.message})`, {
        cause: err,
      });
  }
}
