// Refusals as the client sees them: the status from the error registry, the stable code in the
// X-Arc-Proxy-Error header, and a JSON body with the message and what to do. The connection closes.
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { AgentError } from '../core/index.ts';

export const ERROR_HEADER = 'x-arc-proxy-error';

const body = (err: AgentError): string => `${JSON.stringify({ error: err.toJSON() })}\n`;

/** The refusal, then the connection closes. */
export function replyOnSocket(socket: Socket, err: AgentError): void {
  if (socket.destroyed) return;
  const text = body(err);
  socket.end(
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}\r\n` +
      `Content-Type: application/json\r\n${ERROR_HEADER}: ${err.code}\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
  socket.destroySoon();
}
