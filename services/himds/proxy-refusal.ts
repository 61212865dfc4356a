// Why the Arc Proxy refuses a tunnel. undici reports a refused CONNECT only as "Proxy response
// (502)"; the proxy's stable code is in the X-Arc-Proxy-Error header (proxy/reply.ts), which only a
// CONNECT of our own can read. The heartbeat asks this after a failure, to tell "the gateway refused
// this machine" from "the cloud is down". The socket goes to the Arc Proxy on loopback, never out.
import net from 'node:net';
import { clientAuthorization } from '../../core/index.ts';

export interface ProxyRefusal {
  status: number;
  /** The stable error code (core/errors.ts), when the proxy sent one. */
  code: string | undefined;
  /** The proxy's message: what went wrong (it carries no secret). */
  message: string;
}

const MAX_ANSWER_BYTES = 16 * 1024;

/** The status line, the code header and the JSON body's message of a raw HTTP answer. */
export function parseRefusal(raw: string): ProxyRefusal | undefined {
  const end = raw.indexOf('\r\n\r\n');
  const head = end < 0 ? raw : raw.slice(0, end);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
  if (!status) return undefined;
  const code = /^x-arc-proxy-error:\s*(\S+)/im.exec(head)?.[1];
  let message = head.split('\r\n')[0] ?? '';
  try {
    const body = JSON.parse(raw.slice(end + 4)) as { error?: { message?: string } };
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    // no JSON body: the status line says enough
  }
  return { status, code, message };
}

/**
 * Opens `CONNECT target` at the Arc Proxy as `clientId` and reads the answer: undefined when the
 * tunnel opens (closed again at once) or nothing intelligible comes back within `timeoutMs`.
 */
export function askProxyRefusal(
  proxyUrl: string,
  clientId: string,
  target: string,
  timeoutMs = 10_000,
): Promise<ProxyRefusal | undefined> {
  const { hostname, port } = new URL(proxyUrl);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname.replace(/^\[|\]$/g, ''));
    let raw = '';
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const answer = parseRefusal(raw);
      resolve(answer && answer.status !== 200 ? answer : undefined);
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.setEncoding('latin1');
    socket.on('connect', () =>
      socket.write(
        `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n` +
          `Proxy-Authorization: ${clientAuthorization(clientId)}\r\n\r\n`,
      ),
    );
    socket.on('data', (chunk: string) => {
      raw += chunk;
      // A tunnel that opened: we are done. A refusal: read to its end (the proxy closes).
      if (/^HTTP\/1\.[01] 200/.test(raw) || raw.length > MAX_ANSWER_BYTES) finish();
    });
    socket.on('close', finish);
    socket.on('error', finish);
  });
}
