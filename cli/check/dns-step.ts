// Step 2, direct route only (a proxy or the gateway resolves names itself): where the name points,
// through the cloud profile's resolve map when it names the host (as the Arc Proxy's dialer does),
// else the system resolver; whether the address is private; and under --enable-pls-check, a public
// address of a private-link endpoint fails the endpoint (reference section 2.4).
import { isIP } from 'node:net';
import { AgentError } from '../../core/index.ts';
import { dialError, formatTarget, resolveTarget } from '../../proxy/index.ts';
import { isPrivateAddress } from './address.ts';
import type { EndpointStep } from './probe.ts';

export const dnsStep: EndpointStep = {
  name: 'dns',
  applies: (probe) => probe.dialRoute?.kind === 'direct',
  async run(probe, env) {
    const { target } = probe;
    const mapped = resolveTarget(target, env.cloud.resolve);
    let addresses: string[];
    if (mapped.host !== target.host || mapped.port !== target.port) {
      addresses = [mapped.host];
      probe.dns = { addresses, private: addresses.every(isPrivateAddress), source: 'resolve-map' };
    } else {
      if (isIP(target.host)) addresses = [target.host];
      else {
        try {
          addresses = (await env.lookup(target.host)).map((a) => a.address);
        } catch (err) {
          throw dialError(err as NodeJS.ErrnoException, target.host);
        }
      }
      const first = addresses[0];
      if (first === undefined) throw new AgentError('ARCPROXY_DNS_FAILURE', `${target.host}: no address`);
      probe.dns = { addresses, private: addresses.every(isPrivateAddress), source: 'dns' };
      // The dial goes to the address found here, so that connect time is TCP alone.
      probe.resolve = {
        ...env.cloud.resolve,
        [target.host]: formatTarget({ host: first, port: target.port }),
      };
    }
    if (env.plsCheck && probe.endpoint.privateLink && !probe.dns.private)
      probe.problems.push({
        step: 'dns',
        err: new AgentError(
          'ENDPOINT_NOT_PRIVATE',
          `${target.host} resolves to ${addresses.join(', ')} (--enable-pls-check)`,
        ),
      });
  },
};
