// A CONNECT through the running Arc Proxy, for its clients that need to know why it refuses a tunnel:
// connect's pre-check (the route, allow-list and cloud of the proxy that will carry connect's calls)
// and the heartbeat (did the gateway refuse this machine?). undici reports a refused CONNECT only as
// "Proxy response (502)"; the refusal comes back here as the AgentError it was: the proxy's stable
// code (X-Arc-Proxy-Error), its message and its fix (JSON body). The socket goes to loopback only.
import http from 'node:http';
import { AgentError, clientAuthorization, errorRegistry, type ErrorCode } from '../core/index.ts';
import type { DialResult } from './dial.ts';
import { ERROR_HEADER } from './reply.ts';
import { type Target, formatTarget } from './target.ts';

const MAX_BODY = 16 * 1024;

export function tunnelThroughArcProxy(
  arcProxyUrl: string,
  clientId: string,
  target: Target,
  timeoutMs: number,
): Promise<DialResult> {
  const proxy = new URL(arcProxyUrl);
  const authority = formatTarget(target);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: Number(proxy.port) || 80,
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, 'proxy-authorization': clientAuthorization(clientId) },
      agent: false,
    });
    const timer = setTimeout(
      () =>
        req.destroy(
          new AgentError('ARCPROXY_UPSTREAM_TIMEOUT', `the Arc Proxy did not answer CONNECT ${authority}`),
        ),
      timeoutMs,
    );
    req.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        err instanceof AgentError
          ? err
          : new AgentError('ARCPROXY_NOT_RUNNING', `${arcProxyUrl} (${err.code ?? err.message})`),
      );
    });
    req.once('connect', (res: http.IncomingMessage, socket, head: Buffer) => {
      if (res.statusCode === 200) {
        clearTimeout(timer);
        resolve({ socket, overheadWritten: 0, overheadRead: 0, head });
        return;
      }
      void refusal(res, socket, head).then((err) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      });
    });
    req.end();
  });
}

/** The proxy's refusal as the AgentError it was: code from the header, detail and fix from the body. */
async function refusal(res: http.IncomingMessage, socket: NodeJS.ReadableStream, head: Buffer) {
  const header = String(res.headers[ERROR_HEADER] ?? '');
  const code: ErrorCode = header in errorRegistry ? (header as ErrorCode) : 'ARCPROXY_UPSTREAM_PROXY_REFUSED';
  const body = await readBody(socket, head, Number(res.headers['content-length'] ?? 0));
  let message: string | undefined;
  let action: string | undefined;
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string; action?: string } };
    message = parsed.error?.message;
    action = parsed.error?.action;
  } catch {
    // no body: the registry's text stands
  }
  const generic = errorRegistry[code].message;
  const detail = message?.startsWith(`${generic}: `) ? message.slice(generic.length + 2) : message;
  return new AgentError(code, detail ?? `the Arc Proxy answered ${res.statusCode}`, action ? { action } : {});
}

function readBody(socket: NodeJS.ReadableStream, head: Buffer, length: number): Promise<string> {
  const want = Math.min(length, MAX_BODY);
  return new Promise((resolve) => {
    let body = head;
    const done = () => {
      socket.off('data', onData);
      resolve(body.subarray(0, want).toString('utf8'));
    };
    const onData = (chunk: Buffer) => {
      body = Buffer.concat([body, chunk]);
      if (body.length >= want) done();
    };
    if (body.length >= want) return done();
    socket.on('data', onData);
    socket.once('end', done);
    socket.once('close', done);
    socket.once('error', done);
  });
}
