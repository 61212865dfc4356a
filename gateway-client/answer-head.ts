// Reading the answer to a CONNECT (RFC 9110 section 9.3.6) off a raw socket: the status line and
// headers up to the blank line, and whatever came after them in the same read. Shared by the hop
// through an enterprise proxy and the nested CONNECT inside the TLS session to an Arc gateway.
import type { Socket } from 'node:net';

const MAX_ANSWER_HEAD = 16 * 1024;

export interface AnswerHead {
  /** The status code, or undefined when the first line is not `HTTP/1.x NNN`. */
  status: number | undefined;
  /** Header fields by lower-case name (the last one wins). */
  headers: Record<string, string>;
  /** Size of the head on the wire, blank line included. */
  size: number;
  /** Bytes after the head: tunnel payload after a 200, the start of the body otherwise. */
  rest: Buffer;
}

/** Why no answer head could be read: the peer closed, sent too much, or the socket failed. */
export class AnswerHeadError extends Error {
  constructor(
    readonly reason: 'closed' | 'too-large' | 'socket',
    readonly socketError?: NodeJS.ErrnoException,
  ) {
    super(reason === 'socket' ? (socketError?.message ?? 'socket error') : `answer head ${reason}`);
  }
}

/**
 * Resolves with the answer head once the blank line arrives; the socket is paused then, so no byte
 * after it is lost. Timeouts are the caller's: it destroys the socket, which rejects here.
 */
export function readAnswerHead(socket: Socket): Promise<AnswerHead> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const done = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > MAX_ANSWER_HEAD) {
          done();
          reject(new AnswerHeadError('too-large'));
        }
        return;
      }
      done();
      socket.pause();
      resolve(parseHead(buffered.toString('latin1', 0, end), end + 4, buffered.subarray(end + 4)));
    };
    const onError = (err: NodeJS.ErrnoException) => {
      done();
      reject(new AnswerHeadError('socket', err));
    };
    const onClose = () => {
      done();
      reject(new AnswerHeadError('closed'));
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.resume();
  });
}

function parseHead(text: string, size: number, rest: Buffer): AnswerHead {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine)?.[1];
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: status === undefined ? undefined : Number(status), headers, size, rest };
}

/** The rest of a short error body: up to Content-Length, or until the peer closes; at most `max` bytes. */
export function readShortBody(socket: Socket, head: AnswerHead, max = 4096): Promise<string> {
  const length = Number(head.headers['content-length'] ?? Number.NaN);
  const want = Number.isFinite(length) ? Math.min(length, max) : max;
  return new Promise((resolve) => {
    let body = head.rest;
    const finish = () => {
      socket.off('data', onData);
      socket.off('end', finish);
      socket.off('close', finish);
      socket.off('error', finish);
      resolve(body.toString('utf8', 0, Math.min(body.length, want)));
    };
    const onData = (chunk: Buffer) => {
      body = Buffer.concat([body, chunk]);
      if (body.length >= want) finish();
    };
    if (body.length >= want || socket.destroyed) return finish();
    socket.on('data', onData);
    socket.once('end', finish);
    socket.once('close', finish);
    socket.once('error', finish);
    socket.resume();
  });
}
