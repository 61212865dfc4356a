// A loopback origin for the proxy benchmark in its own process (`small PORT`: 1 KiB per request over
// node:http; `bulk PORT MIB`: MIB MiB over raw TCP from one 1 MiB buffer, honouring back-pressure) that
// prints `port N` once listening and exits when its stdin closes.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';

const [mode, portText, mibText] = process.argv.slice(2);

function smallOrigin(): net.Server {
  const body = Buffer.alloc(1024, 'x');
  return http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  });
}

function bulkOrigin(mib: number): net.Server {
  const chunk = Buffer.alloc(1 << 20, 'y');
  return net.createServer((socket) => {
    let head = '';
    socket.on('error', () => socket.destroy());
    socket.on('data', function onData(data: Buffer) {
      head += data.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.write(
        'HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n' +
          `content-length: ${mib * chunk.length}\r\nconnection: close\r\n\r\n`,
      );
      let left = mib;
      const pump = () => {
        while (left > 0) {
          left--;
          if (!socket.write(chunk)) {
            socket.once('drain', pump);
            return;
          }
        }
        socket.end();
      };
      pump();
    });
  });
}

const mib = Number(mibText ?? 0);
if ((mode !== 'small' && mode !== 'bulk') || (mode === 'bulk' && !(mib > 0))) {
  process.stderr.write('usage: origin.ts small PORT | bulk PORT MIB\n');
  process.exit(2);
}
const server = mode === 'small' ? smallOrigin() : bulkOrigin(mib);
server.listen(Number(portText ?? 0), '127.0.0.1', () => {
  process.stdout.write(`port ${(server.address() as AddressInfo).port}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
