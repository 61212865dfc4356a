// A client's connection to the Arc Proxy, read as HTTP/1.1 by http1.ts: CONNECT goes to tunnel.ts,
// absolute-form requests to forward.ts, origin-form ones to the proxy's own API; between requests the
// connection is kept alive. Limits: the size of a head (431), the time to complete one (408, counted
// from the connection's start or the head's first byte), and the idle time between requests (closed).
// The request body is handed on as it arrives, chunked framing included, with back-pressure.
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import { AgentError } from '../core/index.ts';
import type { Deadlines, Timed } from './deadlines.ts';
import {
  ChunkedBody,
  ChunkedError,
  type Framing,
  HeadGatherer,
  type RequestHead,
  parseRequestHead,
  requestFraming,
} from './http1.ts';
import { replyOnSocket } from './reply.ts';

/** The proxy's own API (origin-form GET): an answer, or the refusal. */
export interface ApiAnswer {
  type: string;
  body: string;
}

export interface FrontDeps {
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  deadlines: Deadlines;
  /** CONNECT: the socket is the tunnel's from now on; `rest` is what the client sent after the head. */
  tunnel(head: RequestHead, socket: Socket, rest: Buffer): void;
  /** An absolute-form request; the forwarder answers it and then calls `finish` or `abort`. */
  forward(request: ClientRequest): void;
  api(method: string, path: string): ApiAnswer | AgentError;
  /** Logs and counts a refusal; the connection is answered and closed by the caller. */
  refused(socket: Socket, err: AgentError): void;
}

/** What the forwarder sees of a request and its connection. */
export interface ClientRequest {
  readonly head: RequestHead;
  /** How the request body is framed: none, a length, or chunked (passed on as it is). */
  readonly framing: Framing;
  readonly socket: Socket;
  /** Whether the client wants the connection kept after this request (HTTP/1.1 without `close`, or 1.0 with `keep-alive`). */
  readonly keepAlive: boolean;
  /** Sends the body to `sink` as it arrives, framing included; call once, when there is somewhere to send it. */
  readBody(sink: BodySink): void;
  /** After `sink.data` returned false: read on. */
  resumeBody(): void;
  /** The answer is written: the connection takes the next request, or (keepAlive false) closes. */
  finish(keepAlive: boolean): void;
  /** The exchange failed: `err` is answered if nothing was written yet, else the connection is cut. */
  abort(err: AgentError | undefined): void;
  /** Set by the forwarder: called if the client goes away before finish() or abort(). */
  onGone: (() => void) | undefined;
}

export interface BodySink {
  /** Body bytes as received; `payload` of them are payload (not chunk framing). False: stop until resumeBody(). */
  data(chunk: Buffer, payload: number): boolean;
  end(): void;
  fail(err: AgentError): void;
}

export function serveConnection(socket: Socket, deps: FrontDeps): void {
  new ClientConnection(socket, deps);
}

// Up to a request line's first space, or what has come of it: tokens only (RFC 9110 section 5.6.2).
// Anything else (a TLS ClientHello, binary) is refused at once, not after the header timeout.
const REQUEST_LINE_START = /^(?:\r\n)*[!#$%&'*+.^_`|~0-9A-Za-z-]*(?: |$)/;
const CONNECT_LINE = /^CONNECT [\x21-\x7e]+ HTTP\/1\.[01]$/;
const NO_BODY: Framing = { kind: 'none' };
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

type State =
  | 'head' // waiting for a request head (deadline: header or keep-alive timeout)
  | 'body-waiting' // a forwarded request whose body the forwarder has not asked for yet
  | 'body' // passing the request body on
  | 'answering' // the request is read; its answer is being written
  | 'gone'; // closed, refused, or handed to a tunnel

class ClientConnection implements ClientRequest, Timed {
  deadline: number;
  slot = -1;
  head: RequestHead = { method: '', target: '', minor: 1, headers: [] };
  framing: Framing = NO_BODY;
  keepAlive = true;
  onGone: (() => void) | undefined;
  private state: State = 'head';
  /** Bytes read and not yet used: part of a head, or what came after the current request. */
  private readonly pending = new HeadGatherer();
  /** Whether a head has begun (the header timeout applies), or the connection is idle (keep-alive timeout). */
  private headStarted = true;
  private bodyLeft = 0;
  private chunked: ChunkedBody | undefined;
  private sink: BodySink | undefined;
  private sinkFull = false;
  private ended = false;

  constructor(
    readonly socket: Socket,
    private readonly deps: FrontDeps,
  ) {
    this.deadline = Date.now() + deps.headersTimeoutMs;
    deps.deadlines.add(this);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.once('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    switch (this.state) {
      case 'head':
        this.pending.append(chunk);
        if (!this.headStarted) {
          this.headStarted = true;
          this.deadline = Date.now() + this.deps.headersTimeoutMs;
        }
        this.readHead();
        return;
      case 'body':
        this.feedBody(chunk);
        return;
      case 'gone':
        return;
      default:
        // The body before the forwarder is ready for it, or a pipelined request: kept, within bounds.
        this.pending.append(chunk);
        if (this.pending.bytes!.length > this.deps.maxHeaderBytes) this.socket.pause();
    }
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    if (this.state === 'head') this.close();
    else if (this.state === 'body' || this.state === 'body-waiting') this.gone();
    // 'answering': the answer is written first, then the connection closes (finish).
  };

  private readonly onClose = (): void => {
    this.deps.deadlines.delete(this);
    if (this.state !== 'head' && this.state !== 'gone') this.gone();
    this.state = 'gone';
  };

  /** The client went away in the middle of a request. */
  private gone(): void {
    this.state = 'gone';
    const onGone = this.onGone;
    this.onGone = undefined;
    onGone?.();
    this.socket.destroy();
  }

  private close(): void {
    this.state = 'gone';
    this.deps.deadlines.delete(this);
    this.socket.destroySoon();
  }

  expire(): void {
    if (this.state !== 'head') return;
    if (!this.headStarted) {
      this.close(); // idle past the keep-alive timeout
      return;
    }
    this.refuse(
      new AgentError('ARCPROXY_HEADERS_TIMEOUT', `not complete within ${this.deps.headersTimeoutMs} ms`),
    );
  }

  private refuse(err: AgentError): void {
    this.state = 'gone';
    this.deps.deadlines.delete(this);
    this.deps.refused(this.socket, err);
    replyOnSocket(this.socket, err);
  }

  private readHead(): void {
    const look = this.pending.look(this.deps.maxHeaderBytes);
    if (look !== 'end') {
      // Not complete yet. What cannot begin a request (a TLS ClientHello) or has a bare CR or LF
      // is refused now, not after the header timeout.
      const buf = this.pending.bytes!;
      if (
        this.pending.lookedFrom < 64 &&
        !REQUEST_LINE_START.test(buf.toString('latin1', 0, Math.min(buf.length, 64)))
      ) {
        this.refuse(new AgentError('ARCPROXY_BAD_REQUEST', 'not an HTTP/1.1 request'));
      } else if (look === 'bare') {
        this.refuse(new AgentError('ARCPROXY_BAD_REQUEST', 'bare CR or LF in head'));
      }
      return;
    }
    const buf = this.pending.bytes!;
    const parsed = parseRequestHead(buf, this.deps.maxHeaderBytes);
    switch (parsed.kind) {
      case 'incomplete':
        // The blank line found was empty lines before a request line still to come.
        return;
      case 'too-large':
        this.refuse(
          new AgentError('ARCPROXY_HEADERS_TOO_LARGE', `more than ${this.deps.maxHeaderBytes} bytes`),
        );
        return;
      case 'invalid': {
        const target = connectLineTarget(buf);
        this.refuse(
          target === undefined
            ? new AgentError('ARCPROXY_BAD_REQUEST', parsed.reason)
            : new AgentError('ARCPROXY_BAD_TARGET', JSON.stringify(target)),
        );
        return;
      }
    }
    this.pending.take(parsed.end);
    this.deadline = 0;
    this.dispatch(parsed.head);
  }

  private dispatch(head: RequestHead): void {
    if (head.method === 'CONNECT') {
      this.state = 'gone';
      this.deps.deadlines.delete(this);
      this.socket.off('data', this.onData);
      this.socket.off('end', this.onEnd);
      // Held until the tunnel reads on: what the client sends while we dial is the destination's.
      this.socket.pause();
      this.deps.tunnel(head, this.socket, this.pending.take());
      return;
    }
    let connection: string | undefined;
    let upgrade = false;
    let expect: string | undefined;
    const headers = head.headers;
    for (let i = 0; i < headers.length; i += 2) {
      switch (headers[i]!.toLowerCase()) {
        case 'connection':
          connection = connection === undefined ? headers[i + 1]! : `${connection},${headers[i + 1]!}`;
          break;
        case 'upgrade':
          upgrade = true;
          break;
        case 'expect':
          expect = headers[i + 1]!;
      }
    }
    const tokens = connection?.toLowerCase();
    if (upgrade && tokens?.includes('upgrade')) {
      this.refuse(new AgentError('ARCPROXY_BAD_REQUEST', 'protocol upgrades are not forwarded; use CONNECT'));
      return;
    }
    const framing = requestFraming(headers);
    if (framing.kind === 'invalid') {
      this.refuse(new AgentError('ARCPROXY_BAD_REQUEST', framing.reason));
      return;
    }
    if (framing.kind === 'chunked' && head.minor === 0) {
      // RFC 9112 section 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
      this.refuse(new AgentError('ARCPROXY_BAD_REQUEST', 'transfer-encoding in an HTTP/1.0 request'));
      return;
    }
    const hasBody = framing.kind === 'chunked' || (framing.kind === 'length' && framing.length > 0);
    this.head = head;
    this.framing = hasBody ? framing : NO_BODY;
    this.keepAlive = head.minor === 1 ? !hasToken(tokens, 'close') : hasToken(tokens, 'keep-alive');
    if (head.target.startsWith('/')) {
      this.answerApi(head, hasBody);
      return;
    }
    if (hasBody && expect?.toLowerCase() === '100-continue') this.socket.write(CONTINUE);
    this.onGone = undefined;
    if (hasBody) {
      this.state = 'body-waiting';
      if (framing.kind === 'chunked') this.chunked = new ChunkedBody();
      else this.bodyLeft = (framing as { length: number }).length;
    } else {
      this.state = 'answering';
    }
    this.deps.forward(this);
  }

  private answerApi(head: RequestHead, hasBody: boolean): void {
    const answer = hasBody
      ? new AgentError('ARCPROXY_BAD_REQUEST', 'the Arc Proxy API takes no request body')
      : this.deps.api(head.method, head.target);
    if (answer instanceof AgentError) {
      this.refuse(answer);
      return;
    }
    this.state = 'answering';
    const connection = !this.keepAlive
      ? 'connection: close\r\n'
      : head.minor === 0
        ? 'connection: keep-alive\r\n'
        : '';
    this.socket.write(
      `HTTP/1.1 200 ${STATUS_CODES[200]}\r\ncontent-type: ${answer.type}\r\n` +
        `content-length: ${Buffer.byteLength(answer.body)}\r\ncache-control: no-store\r\n${connection}\r\n${answer.body}`,
    );
    this.finish(this.keepAlive);
  }

  readBody(sink: BodySink): void {
    if (this.state !== 'body-waiting') return;
    this.sink = sink;
    this.state = 'body';
    const early = this.pending.take();
    if (early.length > 0) this.feedBody(early);
    // State as feedBody left it: still reading the body, unless it was complete or failed.
    if ((this.state as State) === 'body' && !this.sinkFull) this.socket.resume();
  }

  resumeBody(): void {
    this.sinkFull = false;
    if (this.state === 'body') this.socket.resume();
  }

  private feedBody(chunk: Buffer): void {
    const sink = this.sink!;
    let end: number;
    let payload: number;
    if (this.chunked) {
      const before = this.chunked.payload;
      try {
        end = this.chunked.push(chunk, 0);
      } catch (err) {
        if (!(err instanceof ChunkedError)) throw err;
        this.sink = undefined;
        sink.fail(new AgentError('ARCPROXY_BAD_REQUEST', `request body: ${err.message}`));
        return;
      }
      payload = this.chunked.payload - before;
    } else {
      end = chunk.length < this.bodyLeft ? -1 : this.bodyLeft;
      payload = end < 0 ? chunk.length : end;
      this.bodyLeft -= payload;
    }
    if (end < 0) {
      if (!sink.data(chunk, payload)) {
        this.sinkFull = true;
        this.socket.pause();
      }
      return;
    }
    if (end > 0) sink.data(chunk.subarray(0, end), payload);
    // The body is complete; what follows is the next request.
    this.state = 'answering';
    this.sink = undefined;
    this.chunked = undefined;
    if (end < chunk.length) this.pending.append(chunk.subarray(end));
    if (this.sinkFull || this.socket.isPaused()) {
      this.sinkFull = false;
      this.socket.resume();
    }
    sink.end();
  }

  finish(keepAlive: boolean): void {
    if (this.state === 'gone') return;
    this.onGone = undefined;
    if (!keepAlive || !this.keepAlive || this.ended || this.state !== 'answering') {
      this.close();
      return;
    }
    this.state = 'head';
    if (this.socket.isPaused()) this.socket.resume();
    if (this.pending.bytes) {
      this.headStarted = true;
      this.deadline = Date.now() + this.deps.headersTimeoutMs;
      this.readHead();
    } else {
      this.headStarted = false;
      this.deadline = Date.now() + this.deps.keepAliveTimeoutMs;
    }
  }

  abort(err: AgentError | undefined): void {
    if (this.state === 'gone') return;
    this.state = 'gone';
    this.onGone = undefined;
    this.deps.deadlines.delete(this);
    if (err) replyOnSocket(this.socket, err);
    else this.socket.destroy();
  }
}

function hasToken(list: string | undefined, token: string): boolean {
  if (list === undefined) return false;
  for (const t of list.split(',')) if (t.trim() === token) return true;
  return false;
}

/**
 * The target of a `CONNECT` request line that did not parse (`CONNECT a b:80 HTTP/1.1`): the
 * failure is in the target, so the client gets ARCPROXY_BAD_TARGET and its advice. Undefined when
 * the request is not a CONNECT, or its request line is well formed (the fault is elsewhere).
 */
function connectLineTarget(buf: Buffer): string | undefined {
  const text = buf.toString('latin1', 0, Math.min(buf.length, 256));
  if (!text.startsWith('CONNECT ')) return undefined;
  const eol = text.indexOf('\r\n');
  const line = eol < 0 ? text : text.slice(0, eol);
  if (CONNECT_LINE.test(line)) return undefined;
  return line.slice(8, 108).replace(/ HTTP\/\d\.\d$/, '');
}
