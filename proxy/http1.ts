// HTTP/1.1 message framing as the proxy's own engine reads it (RFC 9112), with no sockets: request
// and response heads, how long a body is, and a chunked body followed byte by byte. Strict like
// llhttp's strict mode: whatever two parsers could read differently is refused, so that no request
// can be smuggled past us.

/** A request head: `headers` is the flat list [name, value, name, value, ...], names as sent, values with surrounding SP/HTAB trimmed. */
export interface RequestHead {
  method: string;
  target: string;
  minor: 0 | 1;
  headers: string[];
}
export interface ResponseHead {
  status: number;
  reason: string;
  minor: 0 | 1;
  headers: string[];
}

export type Parsed<T> =
  | { kind: 'head'; head: T; end: number } // end: offset in buf just past the blank line that ends the head
  | { kind: 'incomplete' } // no blank line yet, and buf.length <= maxBytes
  | { kind: 'too-large' } // no complete head within the first maxBytes bytes
  | { kind: 'invalid'; reason: string }; // malformed; reason short and safe to log (never include header values)

export type Framing =
  { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };
export type Invalid = { kind: 'invalid'; reason: string };

const CRLF_CRLF = Buffer.from('\r\n\r\n');
const CR = 0x0d;
const LF = 0x0a;
/** RFC 9112 section 2.2: empty lines before a request line are skipped, but only a few. */
const MAX_LEADING_EMPTY_LINES = 4;

// RFC 9110 section 5.6.2 (token) and 5.5 (field values: VCHAR, obs-text, SP and HTAB), RFC 9112
// sections 3, 4 and 5. FIELD_LINES checks every field line of a head in one pass, from the CRLF that
// ends the start line; its character classes exclude CR and LF, so a bare one fails it.
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\x21-\x7e]+) HTTP\/1\.([01])$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9][0-9]{2})(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const FIELD_LINES = /(?:\r\n[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*)*$/y;
const FIELD_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const CONTENT_LENGTH = /^[0-9]{1,15}$/;

export function parseRequestHead(buf: Buffer, maxBytes: number): Parsed<RequestHead> {
  let start = 0;
  while (buf[start] === CR && buf[start + 1] === LF) {
    start += 2;
    if (start > 2 * MAX_LEADING_EMPTY_LINES) return invalid('too many empty lines before the request line');
  }
  const text = headText(buf, start, maxBytes);
  if (typeof text !== 'string') return text;
  const eol = text.indexOf('\r\n');
  const line = eol < 0 ? text : text.slice(0, eol);
  const m = REQUEST_LINE.exec(line);
  if (!m) return invalid(requestLineProblem(line));
  const headers = fieldLines(text, eol);
  if (typeof headers === 'string') return invalid(headers);
  const head: RequestHead = { method: m[1]!, target: m[2]!, minor: m[3] === '1' ? 1 : 0, headers };
  return { kind: 'head', head, end: start + text.length + 4 };
}

export function parseResponseHead(buf: Buffer, maxBytes: number): Parsed<ResponseHead> {
  const text = headText(buf, 0, maxBytes);
  if (typeof text !== 'string') return text;
  const eol = text.indexOf('\r\n');
  const line = eol < 0 ? text : text.slice(0, eol);
  const m = STATUS_LINE.exec(line);
  if (!m) return invalid(hasBareCrOrLf(line) ? 'bare CR or LF in head' : 'invalid status line');
  const headers = fieldLines(text, eol);
  if (typeof headers === 'string') return invalid(headers);
  const head: ResponseHead = {
    status: Number(m[2]),
    reason: m[3] ?? '',
    minor: m[1] === '1' ? 1 : 0,
    headers,
  };
  return { kind: 'head', head, end: text.length + 4 };
}

/** The head from `start` up to (not including) its blank line, or why there is none. */
function headText(buf: Buffer, start: number, maxBytes: number): string | Parsed<never> {
  const blank = buf.indexOf(CRLF_CRLF, start);
  if (blank < 0) {
    // A bare LF or CR already seen would be refused once the head is complete: refuse it now,
    // rather than wait for a blank line that an LF-only client will never send.
    if (bareCrOrLfIn(buf, start)) return invalid('bare CR or LF in head');
    return buf.length > maxBytes ? { kind: 'too-large' } : { kind: 'incomplete' };
  }
  if (blank + 4 > maxBytes) return { kind: 'too-large' };
  return buf.toString('latin1', start, blank);
}

/**
 * The field lines of a head, from the CRLF `eol` that ends its start line (-1: none), as
 * [name, value, ...]; or why one is malformed.
 */
function fieldLines(text: string, eol: number): string[] | string {
  const headers: string[] = [];
  if (eol < 0) return headers;
  FIELD_LINES.lastIndex = eol;
  if (!FIELD_LINES.test(text)) return fieldLinesProblem(text.slice(eol + 2).split('\r\n'));
  let from = eol + 2;
  let next: number;
  do {
    next = text.indexOf('\r\n', from);
    const colon = text.indexOf(':', from);
    headers.push(text.slice(from, colon), trimOws(text, colon + 1, next < 0 ? text.length : next));
    from = next + 2;
  } while (next >= 0);
  return headers;
}

/** text from `from` to `to`, without the SP and HTAB at either end. */
function trimOws(text: string, from: number, to: number): string {
  let c: number;
  while (from < to && ((c = text.charCodeAt(from)) === 0x20 || c === 0x09)) from++;
  while (to > from && ((c = text.charCodeAt(to - 1)) === 0x20 || c === 0x09)) to--;
  return text.slice(from, to);
}

// Reasons, worked out only once a line has failed; they never quote the line.
function requestLineProblem(line: string): string {
  if (hasBareCrOrLf(line)) return 'bare CR or LF in head';
  if (/^[^ ]+ [^ ]+ HTTP\/[0-9.]+$/i.test(line) && !/ HTTP\/1\.[01]$/.test(line))
    return 'unsupported HTTP version';
  return 'invalid request line';
}

function fieldLinesProblem(lines: string[]): string {
  const line = lines.find((l) => !FIELD_LINE.test(l)) ?? '';
  if (hasBareCrOrLf(line)) return 'bare CR or LF in head';
  if (line.startsWith(' ') || line.startsWith('\t')) return 'obsolete line folding in header'; // RFC 9112 5.2
  const colon = line.indexOf(':');
  if (colon < 0) return 'header line without a colon';
  if (/[\t ]$/.test(line.slice(0, colon))) return 'whitespace before colon in header'; // RFC 9112 5.1
  if (!TOKEN.test(line.slice(0, colon))) return 'invalid header name';
  return 'invalid character in header value';
}

const hasBareCrOrLf = (line: string) => line.includes('\r') || line.includes('\n');

/**
 * Whether buf from `start` holds an LF without a CR before it, or a CR followed by anything but LF
 * (a CR at the very end may still be followed by its LF). The byte before `start` counts for an LF
 * at `start`, so that a search can go on where an earlier one stopped.
 */
export function bareCrOrLfIn(buf: Buffer, start: number): boolean {
  for (let i = buf.indexOf(LF, start); i >= 0; i = buf.indexOf(LF, i + 1)) {
    if (i === 0 || buf[i - 1] !== CR) return true;
  }
  for (let i = buf.indexOf(CR, start); i >= 0 && i + 1 < buf.length; i = buf.indexOf(CR, i + 1)) {
    if (buf[i + 1] !== LF) return true;
  }
  return false;
}

const invalid = (reason: string): Invalid => ({ kind: 'invalid', reason });

/**
 * A head that arrives in pieces (a slow peer, or one trickling on purpose), gathered in a buffer that
 * doubles as it fills and searched for its end only where new bytes came, so that each byte is
 * copied and looked at about once: gathering and parsing all of it again for every piece would cost
 * time in the square of its length. What follows a parsed head (a body, the next request) stays.
 */
export class HeadGatherer {
  /** Bytes gathered and not taken yet. */
  bytes: Buffer | undefined;
  /** Where the last look() began: the new bytes of that look, and the 3 before them. */
  lookedFrom = 0;
  private store: Buffer | undefined;
  private searched = 0;

  append(chunk: Buffer): void {
    const had = this.bytes;
    if (!had) {
      this.bytes = chunk;
      return;
    }
    const length = had.length + chunk.length;
    let store = this.store;
    if (
      !store ||
      had.buffer !== store.buffer ||
      had.byteOffset !== store.byteOffset ||
      store.length < length
    ) {
      store = Buffer.allocUnsafe(Math.max(length * 2, 1024));
      had.copy(store);
      this.store = store;
    }
    chunk.copy(store, had.length);
    this.bytes = store.subarray(0, length);
  }

  /**
   * Looks at what came since the last look: 'end' when the gathered bytes hold the blank line that
   * ends a head (a CRLF CRLF across two reads included) or are over `maxBytes` (parse them now), 'bare'
   * when the new bytes hold a bare CR or LF (refuse now: a peer that ends lines with LF alone never
   * sends the blank line), else 'more'.
   */
  look(maxBytes: number): 'end' | 'bare' | 'more' {
    const buf = this.bytes;
    if (!buf) return 'more';
    const from = Math.max(0, this.searched - 3);
    this.lookedFrom = from;
    this.searched = buf.length;
    if (buf.indexOf(CRLF_CRLF, from) >= 0 || buf.length > maxBytes) return 'end';
    return bareCrOrLfIn(buf, from) ? 'bare' : 'more';
  }

  /** Takes the first `end` bytes (all by default), leaving the rest gathered; returns what was taken. */
  take(end?: number): Buffer {
    const buf = this.bytes ?? EMPTY;
    const cut = end ?? buf.length;
    const rest = buf.subarray(cut);
    this.bytes = rest.length > 0 ? rest : undefined;
    this.store = undefined;
    this.searched = 0;
    return buf.subarray(0, cut);
  }
}

const EMPTY = Buffer.alloc(0);

/** The values of every header named `lowerName` (compared case-insensitively), in order. */
export function headerValues(headers: string[], lowerName: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) values.push(headers[i + 1]!);
  }
  return values;
}

/** How a request's body is delimited (RFC 9112 section 6.3, items 3 to 7). */
export function requestFraming(headers: string[]): Framing | Invalid {
  const te = headerValues(headers, 'transfer-encoding');
  const cl = headerValues(headers, 'content-length');
  if (te.length > 0) {
    if (cl.length > 0) return invalid('both transfer-encoding and content-length');
    const codings = te.join(',').split(',');
    if (!isChunked(codings.pop()!)) return invalid('transfer-encoding does not end in chunked');
    // RFC 9112 section 6.1: a sender applies chunked once.
    if (codings.some(isChunked)) return invalid('chunked applied more than once');
    return { kind: 'chunked' };
  }
  if (cl.length > 0) return contentLength(cl);
  return { kind: 'none' };
}

/** How a response's body is delimited (RFC 9112 section 6.3), given the method of its request. */
export function responseFraming(requestMethod: string, status: number, headers: string[]): Framing | Invalid {
  if (requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304) return { kind: 'none' };
  // Item 2: a 2xx to CONNECT turns the connection into a tunnel right after the head.
  if (requestMethod === 'CONNECT' && status < 300) return { kind: 'none' };
  const te = headerValues(headers, 'transfer-encoding');
  // Items 3 and 4: Transfer-Encoding wins over Content-Length (a forwarder drops the latter), and
  // without chunked last the body runs until the server closes.
  if (te.length > 0)
    return isChunked(te.join(',').split(',').pop()!) ? { kind: 'chunked' } : { kind: 'close' };
  const cl = headerValues(headers, 'content-length');
  if (cl.length > 0) return contentLength(cl);
  return { kind: 'close' };
}

const isChunked = (coding: string) => /^[\t ]*chunked[\t ]*$/i.test(coding);

/** RFC 9110 section 8.6: one length, possibly repeated in several fields or as a list. */
function contentLength(values: string[]): Framing | Invalid {
  let length = -1;
  for (const value of values) {
    for (const element of value.split(',')) {
      const digits = element.replace(/^[\t ]+|[\t ]+$/g, '');
      if (!CONTENT_LENGTH.test(digits)) return invalid('invalid content-length');
      const n = Number(digits);
      if (length >= 0 && n !== length) return invalid('differing content-length values');
      length = n;
    }
  }
  return { kind: 'length', length };
}

export class ChunkedError extends Error {
  override name = 'ChunkedError';
}

const MAX_SIZE_LINE = 4096;
const MAX_TRAILERS = 32 * 1024;

// ChunkedBody states, in the order the bytes come.
const SIZE = 0; // chunk-size digits
const EXT = 1; // chunk extensions, up to the CR
const SIZE_LF = 2; // the LF after a size line
const DATA = 3; // chunk data
const DATA_CR = 4; // the CRLF after chunk data
const DATA_LF = 5;
const TRAILER_START = 6; // start of a trailer field line, or the CR of the final CRLF
const TRAILER_NAME = 7;
const TRAILER_VALUE = 8;
const TRAILER_LF = 9; // the LF after a trailer field line
const FINAL_LF = 10; // the LF that ends the message
const DONE = 11;

/** Follows a chunked body (RFC 9112 section 7.1) as its bytes pass by, framing included. */
export class ChunkedBody {
  /** Payload bytes seen so far (chunk data only, no framing). */
  payload = 0;
  private state = SIZE;
  /** Chunk size while reading the size line, then the data bytes still to come. */
  private size = 0;
  private lineBytes = 0;
  private trailerBytes = 0;

  /**
   * Reads buf from `start`. Calls onData with each run of payload bytes (subarrays of buf, no copies).
   * Returns the offset in buf just past the end of the message (last chunk, trailer section and its
   * final CRLF), or -1 when buf was consumed and the message has not ended yet.
   * Throws ChunkedError on malformed framing.
   */
  push(buf: Buffer, start = 0, onData?: (data: Buffer) => void): number {
    if (this.state === DONE) return start;
    let i = start;
    while (i < buf.length) {
      if (this.state === DATA) {
        const n = Math.min(this.size, buf.length - i);
        if (onData) onData(buf.subarray(i, i + n));
        this.payload += n;
        this.size -= n;
        i += n;
        if (this.size === 0) this.state = DATA_CR;
        continue;
      }
      this.step(buf[i]!);
      i++;
      if (this.state === DONE) return i;
    }
    return -1;
  }

  /** One byte of framing. */
  private step(c: number): void {
    switch (this.state) {
      case SIZE: {
        const digit = hexValue(c);
        if (digit >= 0) {
          if (++this.lineBytes > 16) throw new ChunkedError('chunk size longer than 16 hex digits');
          this.size = this.size * 16 + digit;
          if (this.size > Number.MAX_SAFE_INTEGER) throw new ChunkedError('chunk size too large');
        } else if (c === LF) {
          throw new ChunkedError('bare LF in chunk size line');
        } else if (this.lineBytes === 0) {
          throw new ChunkedError('invalid chunk size');
        } else if (c === 0x3b) {
          this.lineBytes++;
          this.state = EXT;
        } else if (c === CR) {
          this.state = SIZE_LF;
        } else {
          throw new ChunkedError('invalid chunk size');
        }
        return;
      }
      case EXT:
        if (c === CR) this.state = SIZE_LF;
        else if (!isFieldByte(c)) throw new ChunkedError('invalid character in chunk extension');
        else if (++this.lineBytes > MAX_SIZE_LINE) throw new ChunkedError('chunk size line too long');
        return;
      case SIZE_LF:
        if (c !== LF) throw new ChunkedError('bare CR in chunk size line');
        this.lineBytes = 0;
        this.state = this.size === 0 ? TRAILER_START : DATA;
        return;
      case DATA_CR:
        if (c !== CR) throw new ChunkedError('no CRLF after chunk data');
        this.state = DATA_LF;
        return;
      case DATA_LF:
        if (c !== LF) throw new ChunkedError('no CRLF after chunk data');
        this.state = SIZE;
        return;
      default:
        return this.stepTrailer(c);
    }
  }

  /** One byte of the trailer section: field lines (RFC 9112 section 5) up to an empty line. */
  private stepTrailer(c: number): void {
    if (++this.trailerBytes > MAX_TRAILERS) throw new ChunkedError('trailer section too large');
    switch (this.state) {
      case TRAILER_START:
        if (c === CR) this.state = FINAL_LF;
        else if (isTokenByte(c)) this.state = TRAILER_NAME;
        else throw new ChunkedError('invalid trailer field line');
        return;
      case TRAILER_NAME:
        if (c === 0x3a) this.state = TRAILER_VALUE;
        else if (!isTokenByte(c)) throw new ChunkedError('invalid trailer field name');
        return;
      case TRAILER_VALUE:
        if (c === CR) this.state = TRAILER_LF;
        else if (!isFieldByte(c)) throw new ChunkedError('invalid character in trailer field');
        return;
      case TRAILER_LF:
        if (c !== LF) throw new ChunkedError('bare CR in trailer section');
        this.state = TRAILER_START;
        return;
      case FINAL_LF:
        if (c !== LF) throw new ChunkedError('bare CR at the end of the chunked body');
        this.state = DONE;
        return;
    }
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** HTAB, SP, VCHAR and obs-text: what a field value (and a chunk extension) may hold. */
const isFieldByte = (c: number) => c === 0x09 || (c >= 0x20 && c !== 0x7f);

/** RFC 9110 section 5.6.2 tchar. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1;
}
const isTokenByte = (c: number) => TCHAR[c] === 1;
