// Step 4: TLS with the endpoint on top of the connection, against the CAs the agent trusts (the
// cloud's, or the default roots): version and cipher, and a certificate that does not chain to them,
// which is what a TLS-inspecting proxy or firewall shows (the issuer it used is named). The handshake
// runs without rejecting so that the certificate can be looked at; nothing is sent over a connection
// that failed verification, the probe ends there.
import { isIP } from 'node:net';
import type tls from 'node:tls';
import { AgentError } from '../../core/index.ts';
import type { EndpointStep } from './probe.ts';

/** OpenSSL verification results that mean "not from a CA we trust" (RFC 5280 path validation). */
const UNTRUSTED_CHAIN = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

export const tlsStep: EndpointStep = {
  name: 'tls',
  applies: (probe) => probe.tunnel !== undefined,
  async run(probe, env) {
    const { socket, head } = probe.tunnel!;
    const host = probe.target.host;
    if (head.length > 0) socket.unshift(head);
    // node:tls on use: every command loads this file, and `run` (the Arc Proxy) should not pay for TLS.
    const secure = process.getBuiltinModule('node:tls').connect({
      socket,
      servername: isIP(host) ? undefined : host,
      ...(env.ca ? { ca: env.ca } : {}),
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
      minVersion: 'TLSv1.2',
    });
    probe.tlsSocket = secure;
    await handshake(secure, host, env.timeouts.tlsMs);
    probe.tls = { version: secure.getProtocol() ?? 'unknown', cipher: secure.getCipher().standardName };
    if (secure.authorized) return;
    const reason = String(secure.authorizationError);
    const issuer = issuerOf(secure);
    if (UNTRUSTED_CHAIN.has(reason))
      throw new AgentError(
        'ENDPOINT_TLS_INSPECTION',
        `${host}: certificate issued by "${issuer}" (${reason})`,
        {
          action: `exempt ${host} from TLS inspection on the proxy or firewall that issued "${issuer}": the agent checks certificates against the cloud's CAs`,
        },
      );
    throw new AgentError('ENDPOINT_TLS_FAILED', `${host}: ${reason} (certificate issued by "${issuer}")`);
  },
};

function handshake(secure: tls.TLSSocket, host: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      secure.destroy();
      reject(new AgentError('ENDPOINT_TLS_FAILED', `${host}: no TLS handshake within ${timeoutMs} ms`));
    }, timeoutMs);
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      secure.off('error', onError);
      resolve();
    });
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why =
        err.code === 'ECONNRESET' || err.code === 'EPIPE'
          ? 'the connection was cut during the handshake (a firewall that filters on the server name?)'
          : (err.code ?? err.message);
      reject(new AgentError('ENDPOINT_TLS_FAILED', `${host}: ${why}`, { cause: err }));
    };
    secure.once('error', onError);
  });
}

/** The issuer's distinguished name as `CN=..., O=...`, the way a user finds it in their proxy. */
function issuerOf(secure: tls.TLSSocket): string {
  const issuer = secure.getPeerCertificate().issuer as unknown as
    Record<string, string | string[]> | undefined;
  if (!issuer) return 'unknown';
  const order = ['CN', 'OU', 'O', 'L', 'ST', 'C'];
  const keys = [
    ...order.filter((k) => k in issuer),
    ...Object.keys(issuer).filter((k) => !order.includes(k)),
  ];
  return keys.map((k) => `${k}=${[issuer[k]].flat().join('+')}`).join(', ') || 'unknown';
}
