// Step 3: the connection the route asks for, opened by the Arc Proxy's own dialer (proxy/dial.ts):
// TCP, a CONNECT through the enterprise proxy, or a tunnel through the Arc gateway. For connect's
// pre-check, a CONNECT through the running Arc Proxy instead.
import { dial, tunnelThroughArcProxy } from '../../proxy/index.ts';
import type { EndpointStep } from './probe.ts';
import { CLIENT_ID } from './route-step.ts';

export const connectStep: EndpointStep = {
  name: 'connect',
  applies: () => true,
  async run(probe, env) {
    if (env.arcProxyUrl) {
      probe.tunnel = await tunnelThroughArcProxy(
        env.arcProxyUrl,
        CLIENT_ID,
        probe.target,
        env.timeouts.connectMs,
      );
      return;
    }
    if (!probe.dialRoute) return;
    const options = probe.resolve ? { ...env.dialOptions, resolve: probe.resolve } : env.dialOptions;
    probe.tunnel = await dial(probe.dialRoute, probe.target, options);
  },
};
