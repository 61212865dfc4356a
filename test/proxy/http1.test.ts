// The HTTP/1.1 framing of the proxy's own engine is pure: heads, body framing and chunked bodies are
// tested on buffers, including the inputs that smuggle a second request past a lenient parser.
import { describe, expect, it } from 'vitest';
import {
  ChunkedBody,
  ChunkedError,
  headerValues,
  parseRequestHead,
  parseResponseHead,
  requestFraming,
  responseFraming,
} from '../../proxy/http1.ts';

const bytes = (s: string) => Buffer.from(s, 'latin1');
const MAX = 16 * 1024;

describe('parseRequestHead', () => {
  it.each([
    {
      name: 'an absolute-form GET with headers',
      head: 'GET http://example.com/a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n',
      want: {
        method: 'GET',
        target: 'http://example.com/a?b=c',
        minor: 1,
        headers: ['Host', 'example.com', 'Accept', '*/*'],
      },
    },
    {
      name: 'a CONNECT in authority-form',
      head: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      want: { method: 'CONNECT', target: 'example.com:443', minor: 1, headers: ['Host', 'example.com:443'] },
    },
    {
      name: 'HTTP/1.0 without headers',
      head: 'GET / HTTP/1.0\r\n\r\n',
      want: { method: 'GET', target: '/', minor: 0, headers: [] },
    },
    {
      name: 'names as sent, values trimmed of SP and HTAB only',
      head: 'GET / HTTP/1.1\r\nX-Mixed-CASE:  \t a  b \t \r\nempty:\r\nBlank: \t \r\nUrl: http://x:1/\r\n\r\n',
      want: {
        method: 'GET',
        target: '/',
        minor: 1,
        headers: ['X-Mixed-CASE', 'a  b', 'empty', '', 'Blank', '', 'Url', 'http://x:1/'],
      },
    },
    {
      name: 'every tchar in names and methods, obs-text in values',
      head: "M!#$%&'*+-.^_`|~9 * HTTP/1.1\r\nA!#$%&'*+-.^_`|~z: caf\xe9 \xa0\r\n\r\n",
      want: {
        method: "M!#$%&'*+-.^_`|~9",
        target: '*',
        minor: 1,
        headers: ["A!#$%&'*+-.^_`|~z", 'caf\xe9 \xa0'],
      },
    },
  ])('reads $name', ({ head, want }) => {
    expect(parseRequestHead(bytes(head), MAX)).toEqual({ kind: 'head', head: want, end: head.length });
  });

  it('skips a few empty lines before the request line, and counts them in end', () => {
    const buf = bytes('\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(parseRequestHead(buf, MAX)).toMatchObject({
      kind: 'head',
      head: { method: 'GET' },
      end: buf.length,
    });
    expect(parseRequestHead(bytes('\r\n'.repeat(5) + 'GET / HTTP/1.1\r\n\r\n'), MAX)).toEqual({
      kind: 'invalid',
      reason: 'too many empty lines before the request line',
    });
  });

  it('ends at the blank line: the bytes after it are the body or the next request', () => {
    const head = 'POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n';
    const buf = bytes(head + 'helloGET / HTTP/1.1\r\n\r\n');
    const parsed = parseRequestHead(buf, MAX);
    expect(parsed).toMatchObject({ kind: 'head', end: head.length });
    expect(buf.toString('latin1', head.length, head.length + 5)).toBe('hello');
  });

  it.each([
    ['obs-fold', 'GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n', 'obsolete line folding in header'],
    ['obs-fold with HTAB', 'GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n', 'obsolete line folding in header'],
    ['space before colon', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', 'whitespace before colon in header'],
    [
      'HTAB before colon',
      'GET / HTTP/1.1\r\nContent-Length\t: 5\r\n\r\n',
      'whitespace before colon in header',
    ],
    ['header without colon', 'GET / HTTP/1.1\r\nHost x\r\n\r\n', 'header line without a colon'],
    ['empty header name', 'GET / HTTP/1.1\r\n: x\r\n\r\n', 'invalid header name'],
    ['non-token header name', 'GET / HTTP/1.1\r\nX@Y: x\r\n\r\n', 'invalid header name'],
    [
      'bare LF between headers',
      'GET / HTTP/1.1\r\nA: b\nTransfer-Encoding: chunked\r\n\r\n',
      'bare CR or LF in head',
    ],
    ['bare CR between headers', 'GET / HTTP/1.1\r\nA: b\rC: d\r\n\r\n', 'bare CR or LF in head'],
    ['bare LF in the request line', 'GET /\n HTTP/1.1\r\n\r\n', 'bare CR or LF in head'],
    ['bare CR ending a header', 'GET / HTTP/1.1\r\nA: b\r\r\n\r\n', 'bare CR or LF in head'],
    ['NUL in a value', 'GET / HTTP/1.1\r\nA: b\0c\r\n\r\n', 'invalid character in header value'],
    ['DEL in a value', 'GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n', 'invalid character in header value'],
    ['ESC in a value', 'GET / HTTP/1.1\r\nA: \x1b[31m\r\n\r\n', 'invalid character in header value'],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\n\r\n', 'unsupported HTTP version'],
    ['HTTP/1.2', 'GET / HTTP/1.2\r\n\r\n', 'unsupported HTTP version'],
    ['a lower-case version', 'GET / http/1.1\r\n\r\n', 'unsupported HTTP version'],
    ['HTTP/1', 'GET / HTTP/1\r\n\r\n', 'unsupported HTTP version'],
    ['no version', 'GET /\r\n\r\n', 'invalid request line'],
    ['two spaces after the method', 'GET  / HTTP/1.1\r\n\r\n', 'invalid request line'],
    ['a space after the version', 'GET / HTTP/1.1 \r\n\r\n', 'invalid request line'],
    ['HTAB as separator', 'GET\t/ HTTP/1.1\r\n\r\n', 'invalid request line'],
    ['a space inside the target', 'GET /a b HTTP/1.1\r\n\r\n', 'invalid request line'],
    ['obs-text in the target', 'GET /caf\xe9 HTTP/1.1\r\n\r\n', 'invalid request line'],
    ['a non-token method', 'G(T / HTTP/1.1\r\n\r\n', 'invalid request line'],
    ['no method', ' / HTTP/1.1\r\n\r\n', 'invalid request line'],
    ['a response', 'HTTP/1.1 200 OK\r\n\r\n', 'invalid request line'],
  ])('refuses %s', (_, head, reason) => {
    expect(parseRequestHead(bytes(head), MAX)).toEqual({ kind: 'invalid', reason });
  });

  it('never quotes a header value in its reason', () => {
    const parsed = parseRequestHead(bytes('GET / HTTP/1.1\r\nAuthorization: Bearer secret\0\r\n\r\n'), MAX);
    expect(parsed.kind).toBe('invalid');
    expect(JSON.stringify(parsed)).not.toContain('secret');
  });

  it('is incomplete at every prefix of a head, and complete at its end', () => {
    const head = bytes('\r\nPOST http://x/ HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n');
    for (let n = 0; n < head.length; n++) {
      expect(parseRequestHead(head.subarray(0, n), MAX), `prefix ${n}`).toEqual({ kind: 'incomplete' });
    }
    expect(parseRequestHead(head, MAX)).toMatchObject({ kind: 'head', end: head.length });
  });

  it('refuses a bare LF before the head is complete, instead of waiting for a CRLF CRLF', () => {
    expect(parseRequestHead(bytes('GET / HTTP/1.1\nHost: x\n\n'), MAX)).toEqual({
      kind: 'invalid',
      reason: 'bare CR or LF in head',
    });
    expect(parseRequestHead(bytes('GET / HTTP/1.1\r\nHost: x\rY'), MAX).kind).toBe('invalid');
    expect(parseRequestHead(bytes('\nGET / HTTP/1.1\r\n'), MAX).kind).toBe('invalid');
  });

  it('is too large past maxBytes with no blank line, or when the blank line ends past it', () => {
    const head = bytes('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(parseRequestHead(head, head.length)).toMatchObject({ kind: 'head', end: head.length });
    expect(parseRequestHead(head, head.length - 1)).toEqual({ kind: 'too-large' });
    const open = bytes('GET / HTTP/1.1\r\nCookie: ' + 'a'.repeat(100));
    expect(parseRequestHead(open, open.length)).toEqual({ kind: 'incomplete' });
    expect(parseRequestHead(open, open.length - 1)).toEqual({ kind: 'too-large' });
  });
});

describe('parseResponseHead', () => {
  it.each([
    ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', { status: 200, reason: 'OK', minor: 1 }],
    ['HTTP/1.0 404 Not  Found\t!\r\n\r\n', { status: 404, reason: 'Not  Found\t!', minor: 0 }],
    ['HTTP/1.1 204 \r\n\r\n', { status: 204, reason: '', minor: 1 }],
    ['HTTP/1.1 204\r\n\r\n', { status: 204, reason: '', minor: 1 }],
    ['HTTP/1.1 100 Continue\r\n\r\n', { status: 100, reason: 'Continue', minor: 1 }],
    ['HTTP/1.1 999 Tr\xe8s bien\r\n\r\n', { status: 999, reason: 'Tr\xe8s bien', minor: 1 }],
  ])('reads %j', (head, want) => {
    expect(parseResponseHead(bytes(head), MAX)).toMatchObject({ kind: 'head', head: want, end: head.length });
  });

  it('reads headers as for requests, and ends at the blank line', () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain \r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n';
    expect(parseResponseHead(bytes(head + 'body'), MAX)).toEqual({
      kind: 'head',
      head: {
        status: 200,
        reason: 'OK',
        minor: 1,
        headers: ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'],
      },
      end: head.length,
    });
  });

  it.each([
    ['status 099', 'HTTP/1.1 099 X\r\n\r\n', 'invalid status line'],
    ['a four-digit status', 'HTTP/1.1 2000 X\r\n\r\n', 'invalid status line'],
    ['a two-digit status', 'HTTP/1.1 20 X\r\n\r\n', 'invalid status line'],
    ['HTTP/2', 'HTTP/2 200 OK\r\n\r\n', 'invalid status line'],
    ['HTTP/1.2', 'HTTP/1.2 200 OK\r\n\r\n', 'invalid status line'],
    ['two spaces before the status', 'HTTP/1.1  200 OK\r\n\r\n', 'invalid status line'],
    ['NUL in the reason', 'HTTP/1.1 200 O\0K\r\n\r\n', 'invalid status line'],
    ['a leading empty line', '\r\nHTTP/1.1 200 OK\r\n\r\n', 'invalid status line'],
    ['bare LF in the status line', 'HTTP/1.1 200 OK\nX: y\r\n\r\n', 'bare CR or LF in head'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n', 'obsolete line folding in header'],
    [
      'space before colon',
      'HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\n',
      'whitespace before colon in header',
    ],
  ])('refuses %s', (_, head, reason) => {
    expect(parseResponseHead(bytes(head), MAX)).toEqual({ kind: 'invalid', reason });
  });

  it('is incomplete, then too large', () => {
    expect(parseResponseHead(bytes('HTTP/1.1 200 OK\r\n'), MAX)).toEqual({ kind: 'incomplete' });
    expect(parseResponseHead(bytes('HTTP/1.1 200 OK\r\nX: ' + 'a'.repeat(64)), 64)).toEqual({
      kind: 'too-large',
    });
  });
});

describe('headerValues', () => {
  it('gives every value of a name, compared case-insensitively, in order', () => {
    const headers = [
      'Set-Cookie',
      'a',
      'Host',
      'x',
      'set-cookie',
      'b',
      'SET-COOKIE',
      '',
      'Set-Cookies',
      'no',
    ];
    expect(headerValues(headers, 'set-cookie')).toEqual(['a', 'b', '']);
    expect(headerValues(headers, 'accept')).toEqual([]);
  });
});

/** ['Name: value', ...] -> flat header list. */
const fields = (...lines: string[]) =>
  lines.flatMap((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]);

describe('requestFraming', () => {
  it.each([
    ['no body headers', [], { kind: 'none' }],
    ['Content-Length: 0', ['Content-Length: 0'], { kind: 'length', length: 0 }],
    ['Content-Length: 42', ['content-length: 42'], { kind: 'length', length: 42 }],
    ['a repeated equal length', ['Content-Length: 42', 'Content-Length: 42'], { kind: 'length', length: 42 }],
    ['an equal length as a list', ['Content-Length: 42 ,42,\t42'], { kind: 'length', length: 42 }],
    ['15 digits', ['Content-Length: 999999999999999'], { kind: 'length', length: 999999999999999 }],
    ['chunked', ['Transfer-Encoding: chunked'], { kind: 'chunked' }],
    ['Chunked in capitals', ['Transfer-Encoding: CHUNKED'], { kind: 'chunked' }],
    ['gzip then chunked', ['Transfer-Encoding: gzip , chunked'], { kind: 'chunked' }],
    [
      'codings over two fields',
      ['Transfer-Encoding: gzip', 'Transfer-Encoding: chunked'],
      { kind: 'chunked' },
    ],
  ])('%s', (_, lines, want) => {
    expect(requestFraming(fields(...lines))).toEqual(want);
  });

  it.each([
    ['Transfer-Encoding with Content-Length', ['Content-Length: 5', 'Transfer-Encoding: chunked']],
    ['Transfer-Encoding not ending in chunked', ['Transfer-Encoding: chunked, gzip']],
    ['Transfer-Encoding without chunked', ['Transfer-Encoding: gzip']],
    [
      'chunked split over fields, then another',
      ['Transfer-Encoding: chunked', 'Transfer-Encoding: identity'],
    ],
    ['chunked twice', ['Transfer-Encoding: chunked, chunked']],
    ['a coding that only starts with chunked', ['Transfer-Encoding: chunkedx']],
    ['an empty Transfer-Encoding', ['Transfer-Encoding: ']],
    ['differing Content-Lengths', ['Content-Length: 5', 'Content-Length: 6']],
    ['differing Content-Lengths in a list', ['Content-Length: 5, 6']],
    ['an empty element in Content-Length', ['Content-Length: 5,']],
    ['an empty Content-Length', ['Content-Length: ']],
    ['a negative Content-Length', ['Content-Length: -1']],
    ['a signed Content-Length', ['Content-Length: +1']],
    ['a hex Content-Length', ['Content-Length: 0x10']],
    ['a decimal point', ['Content-Length: 1.0']],
    ['16 digits', ['Content-Length: 1000000000000000']],
    ['digits with a space inside', ['Content-Length: 1 2']],
  ])('refuses %s', (_, lines) => {
    expect(requestFraming(fields(...lines))).toMatchObject({ kind: 'invalid' });
  });
});

describe('responseFraming', () => {
  it.each([
    ['HEAD', 200, ['Content-Length: 10'], { kind: 'none' }],
    ['HEAD', 200, ['Transfer-Encoding: chunked'], { kind: 'none' }],
    ['GET', 100, [], { kind: 'none' }],
    ['GET', 101, ['Content-Length: 10'], { kind: 'none' }],
    ['GET', 204, ['Content-Length: 10'], { kind: 'none' }],
    ['GET', 304, ['Transfer-Encoding: chunked'], { kind: 'none' }],
    ['CONNECT', 200, ['Content-Length: 10'], { kind: 'none' }],
    ['CONNECT', 407, ['Content-Length: 10'], { kind: 'length', length: 10 }],
    ['GET', 200, ['Transfer-Encoding: chunked'], { kind: 'chunked' }],
    ['GET', 200, ['Content-Length: 3', 'Transfer-Encoding: gzip, chunked'], { kind: 'chunked' }],
    ['GET', 200, ['Transfer-Encoding: gzip'], { kind: 'close' }],
    ['GET', 200, ['Transfer-Encoding: chunked, gzip', 'Content-Length: 3'], { kind: 'close' }],
    ['GET', 200, ['Content-Length: 0'], { kind: 'length', length: 0 }],
    ['POST', 500, ['Content-Length: 7', 'content-length: 7'], { kind: 'length', length: 7 }],
    ['GET', 200, [], { kind: 'close' }],
    ['GET', 200, ['Content-Length: 3', 'Content-Length: 4'], { kind: 'invalid' }],
    ['GET', 200, ['Content-Length: three'], { kind: 'invalid' }],
  ])('%s answered %i with %j', (method, status, lines, want) => {
    expect(responseFraming(method, status, fields(...lines))).toMatchObject(want);
  });
});

interface Fed {
  payload: string;
  /** Offset just past the message, counted from the start of all pieces together; -1: not ended. */
  end: number;
}

/** Pushes the pieces in order until the body ends, as a connection would. */
function feed(pieces: Buffer[]): Fed {
  const body = new ChunkedBody();
  const data: Buffer[] = [];
  let seen = 0;
  let offset = 0;
  for (const piece of pieces) {
    const end = body.push(piece, 0, (d) => {
      expect(d.buffer).toBe(piece.buffer); // a view into what was pushed, not a copy
      data.push(d);
      seen += d.length;
    });
    expect(body.payload).toBe(seen);
    if (end >= 0) return { payload: Buffer.concat(data).toString('latin1'), end: offset + end };
    offset += piece.length;
  }
  return { payload: Buffer.concat(data).toString('latin1'), end: -1 };
}

/** The whole buffer; byte by byte; and, unless it is long, cut in two at every position. */
function splits(buf: Buffer): Buffer[][] {
  const ways = [[buf], [...buf].map((_, i) => buf.subarray(i, i + 1))];
  if (buf.length > 1000) return ways;
  for (let i = 0; i <= buf.length; i++) ways.push([buf.subarray(0, i), buf.subarray(i)]);
  return ways;
}

describe('ChunkedBody', () => {
  it.each([
    ['two chunks', '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n', 'hello world'],
    ['no data at all', '0\r\n\r\n', ''],
    [
      'hex sizes in either case, with leading zeros',
      'A\r\n0123456789\r\n000b\r\nabcdefghijk\r\n00\r\n\r\n',
      '0123456789abcdefghijk',
    ],
    ['16 hex digits', '0000000000000003\r\nabc\r\n0000000000000000\r\n\r\n', 'abc'],
    ['extensions', '5;name=value;q="a b"\t; x\r\nhello\r\n0;last\r\n\r\n', 'hello'],
    ['trailers', '3\r\nabc\r\n0\r\nExpires: never\r\nX-Sum:\t1 2 \r\nEmpty:\r\n\r\n', 'abc'],
    ['CR and LF inside the data', '4\r\n\r\n\r\n\r\n0\r\n\r\n', '\r\n\r\n'],
  ])('reads %s, however the bytes are split', (_, text, payload) => {
    const buf = bytes(text);
    for (const pieces of splits(buf)) {
      expect(feed(pieces)).toEqual({ payload, end: buf.length });
    }
  });

  it('ends before the bytes after the message, and reads from start', () => {
    const message = '1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX: y\r\n\r\n';
    const after = 'GET / HTTP/1.1\r\n\r\n';
    const buf = bytes('HEAD' + message + after);
    const body = new ChunkedBody();
    expect(body.push(buf, 4)).toBe(4 + message.length);
    expect(body.payload).toBe(26);
    for (const pieces of splits(bytes(message + after))) {
      expect(feed(pieces)).toEqual({ payload: 'abcdefghijklmnopqrstuvwxyz', end: message.length });
    }
  });

  it('consumes nothing once the message has ended', () => {
    const body = new ChunkedBody();
    expect(body.push(bytes('0\r\n\r\n'))).toBe(5);
    expect(body.push(bytes('5\r\nhello'), 2)).toBe(2);
    expect(body.payload).toBe(0);
  });

  it('waits for more while a chunk is open', () => {
    expect(feed([bytes('5\r\nhel')])).toEqual({ payload: 'hel', end: -1 });
    expect(feed([bytes('5\r\nhello\r\n0\r\n\r')])).toEqual({ payload: 'hello', end: -1 });
  });

  it('takes chunk sizes up to Number.MAX_SAFE_INTEGER', () => {
    const body = new ChunkedBody();
    expect(body.push(bytes('1fffffffffffff\r\nabc'))).toBe(-1);
    expect(body.payload).toBe(3);
    expect(() => new ChunkedBody().push(bytes('20000000000000\r\n'))).toThrow(ChunkedError);
  });

  it('takes a size line of 4096 bytes and a trailer section of 32 KiB', () => {
    const line = '5;' + 'x'.repeat(4096 - 2);
    expect(feed([bytes(line + '\r\nhello\r\n0\r\n\r\n')]).payload).toBe('hello');
    const trailers = 'X: ' + 'v'.repeat(32 * 1024 - 7) + '\r\n\r\n';
    expect(trailers.length).toBe(32 * 1024);
    expect(feed([bytes('0\r\n' + trailers)]).end).toBe(3 + trailers.length);
  });

  it.each([
    ['a non-hex size', '5x\r\nhello\r\n0\r\n\r\n'],
    ['a size that is not hex at all', 'g\r\n'],
    ['an empty size line', '\r\nhello\r\n'],
    ['a space before the size', ' 5\r\nhello\r\n0\r\n\r\n'],
    ['a space after the size', '5 \r\nhello\r\n0\r\n\r\n'],
    ['a signed size', '-5\r\nhello\r\n0\r\n\r\n'],
    ['a 0x prefix', '0x5\r\nhello\r\n0\r\n\r\n'],
    ['17 hex digits', '00000000000000005\r\nhello\r\n0\r\n\r\n'],
    ['a size over Number.MAX_SAFE_INTEGER', 'ffffffffffffffff\r\n'],
    ['data longer than its size', '5\r\nhello!\r\n0\r\n\r\n'],
    ['data shorter than its size', '5\r\nhell\r\n0\r\n\r\n'],
    ['a bare LF after the size', '5\nhello\r\n0\r\n\r\n'],
    ['a bare CR after the size', '5\rXhello\r\n0\r\n\r\n'],
    ['a bare LF after the data', '5\r\nhello\n0\r\n\r\n'],
    ['a bare CR after the data', '5\r\nhello\rX0\r\n\r\n'],
    ['a bare LF after the last chunk', '5\r\nhello\r\n0\n\r\n'],
    ['a bare LF ending the message', '5\r\nhello\r\n0\r\n\n'],
    ['a bare CR ending the message', '5\r\nhello\r\n0\r\n\rX'],
    ['a bare LF after a trailer', '0\r\nX: y\n\r\n'],
    ['a bare CR in a trailer', '0\r\nX: y\rZZ: w\r\n\r\n'],
    ['a bare LF in an extension', '5;a\nb\r\nhello\r\n0\r\n\r\n'],
    ['a control character in an extension', '5;a=\x01\r\nhello\r\n0\r\n\r\n'],
    ['a size line over 4096 bytes', '5;' + 'x'.repeat(4095) + '\r\nhello\r\n0\r\n\r\n'],
    ['a trailer section over 32 KiB', '0\r\nX: ' + 'v'.repeat(32 * 1024 - 6) + '\r\n\r\n'],
    ['an obs-folded trailer', '0\r\nX: y\r\n z\r\n\r\n'],
    ['a space before a trailer colon', '0\r\nX : y\r\n\r\n'],
    ['a trailer without colon', '0\r\nXY\r\n\r\n'],
    ['NUL in a trailer', '0\r\nX: \0\r\n\r\n'],
    ['DEL in a trailer', '0\r\nX: \x7f\r\n\r\n'],
    ['DEL in an extension', '5;\x7f\r\nhello\r\n0\r\n\r\n'],
  ])('throws ChunkedError on %s, however the bytes are split', (_, text) => {
    for (const pieces of splits(bytes(text))) {
      expect(() => feed(pieces)).toThrow(ChunkedError);
    }
  });
});
