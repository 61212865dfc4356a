// Step 5: one HTTP request over the TLS session. Any HTTP answer, whatever its status, means the
// endpoint is reachable (the service is there); its Date header feeds the clock-skew check.
import http from 'node:http';
import { AgentError, VERSION } from '../../core/index.ts';
import { formatTarget } from '../../proxy/index.ts';
import type { EndpointStep } from './probe.ts';

export const httpStep: EndpointStep = {
  name: 'http',
  applies: (probe) => probe.tlsSocket !== undefined,
  run(probe, env) {
    const socket = probe.tlsSocket!;
    const { host, port, path } = probe.endpoint;
    const authority = port === 443 ? host : formatTarget(probe.target);
    return new Promise((resolve, reject) => {
      const sentAt = env.now();
      const req = http.request({
        createConnection: () => socket,
        method: 'GET',
        path,
        // Keep-alive, so that the server waits and this end closes first (probe.ts closeGently): a
        // client that closes first leaves no half-open tunnel behind in a proxy on the way.
        headers: {
          host: authority,
          'user-agent': `azcmagent/${VERSION} check`,
          accept: '*/*',
          connection: 'keep-alive',
        },
      });
      const timer = setTimeout(
        () =>
          req.destroy(
            new AgentError(
              'ARCPROXY_UPSTREAM_TIMEOUT',
              `${host}: no HTTP answer within ${env.timeouts.httpMs} ms`,
            ),
          ),
        env.timeouts.httpMs,
      );
      req.once('response', (res) => {
        probe.http = {
          status: res.statusCode ?? 0,
          date: res.headers.date,
          sentAt,
          receivedAt: env.now(),
        };
        // The answer is in; the body is read to its end, within the same time limit, so that no
        // unread byte makes the close a reset.
        const finish = () => {
          clearTimeout(timer);
          resolve();
        };
        res.once('end', finish);
        res.once('close', finish);
        res.resume();
      });
      req.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          err instanceof AgentError
            ? err
            : new AgentError(
                'ARCPROXY_UPSTREAM_RESET',
                `${host}: ${err.code?.startsWith('HPE_') ? 'the answer is not HTTP' : 'closed before answering HTTP'} (${err.code ?? err.message})`,
                { cause: err },
              ),
        );
      });
      req.end();
    });
  },
};
