// Step 1: the route the Arc Proxy would choose for this endpoint (proxy/route.ts, the same pure
// decision and the same policy): denied by our allow-list, direct, the enterprise proxy, or the gateway.
import { AgentError } from '../../core/index.ts';
import { decideRoute, type UpstreamProxy } from '../../proxy/index.ts';
import { displayProxyUrl } from '../format.ts';
import type { EndpointStep } from './probe.ts';

/** The client id the CLI uses at the Arc Proxy; the allow-list decision may name it. */
export const CLIENT_ID = 'azcmagent';

/** The enterprise proxy as output shows it: credentials redacted (redactUrl), no trailing slash. */
export const proxyShown = (proxy: UpstreamProxy): string =>
  displayProxyUrl(proxy.url.href.replace(/\/$/, ''));

export const routeStep: EndpointStep = {
  name: 'route',
  applies: () => true,
  run(probe, env) {
    if (env.arcProxyUrl) {
      // The running Arc Proxy decides; it answers a refusal with its stable code (connect-step.ts).
      probe.route = 'arcproxy';
      probe.proxy = env.arcProxyUrl;
      return Promise.resolve();
    }
    const decision = decideRoute(probe.target, CLIENT_ID, env.policy);
    if (decision.kind === 'deny') {
      probe.route = 'deny';
      throw new AgentError('ARCPROXY_DENIED', decision.reason, {
        action: `if this endpoint is expected, allow it: ${decision.allowCommand}`,
      });
    }
    probe.route = decision.kind;
    probe.dialRoute = decision;
    const proxy =
      decision.kind === 'upstream' ? decision.proxy : decision.kind === 'gateway' ? decision.via : undefined;
    probe.proxy = proxy ? proxyShown(proxy) : undefined;
    if (decision.wouldDeny)
      probe.notes.push(
        `not in the allow-list: arcproxy.allowlist.mode enforce would refuse it (allow it: azcmagent config set arcproxy.allowlist ${probe.endpoint.host}:${probe.endpoint.port} --add)`,
      );
    if (decision.kind === 'gateway') probe.notes.push(`through the Arc gateway ${decision.gateway.url}`);
    if (env.plsCheck && probe.endpoint.privateLink && decision.kind !== 'direct')
      probe.notes.push(
        'the name is resolved beyond this machine (proxy or gateway), so --enable-pls-check cannot see its address; to use a private endpoint, send Arc traffic direct: azcmagent config set proxy.bypass Arc --add',
      );
    return Promise.resolve();
  },
};
