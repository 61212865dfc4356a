// The new-tunnel client of the proxy benchmark, proxy-bench.sh's connrate.js in its own process: CONC
// loops each connect, `CONNECT HOST:ORIGIN` (HOST 127.0.0.1 unless given: the gateway section names
// the origin by a name its gateway serves), await 200, send one `Connection: close` GET and read to EOF
// for SECS seconds (proxy port 0: straight to the origin, the baseline), then print one JSON line.
import net from 'node:net';

const [proxyPort = 0, originPort = 0, conc = 50, secs = 5] = process.argv.slice(2, 6).map(Number);
const host = process.argv[6] ?? '127.0.0.1';
const end = Date.now() + secs * 1000;
const latencies: number[] = [];
let ok = 0;
let failed = 0;
const GET = `GET / HTTP/1.1\r\nHost: ${host}:${originPort}\r\nConnection: close\r\n\r\n`;
const CONNECT = `CONNECT ${host}:${originPort} HTTP/1.1\r\nHost: ${host}:${originPort}\r\n\r\n`;
const STATUS_200 = /^HTTP\/1\.[01] 200/;

function one(done: () => void): void {
  const t0 = process.hrtime.bigint();
  const socket = net.connect(proxyPort || originPort, '127.0.0.1');
  let tunnelled = !proxyPort;
  let head = '';
  let got200 = false;
  let finished = false;
  socket.setNoDelay(true);
  socket.on('connect', () => socket.write(proxyPort ? CONNECT : GET));
  socket.on('data', (data: Buffer) => {
    if (!tunnelled) {
      head += data.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      if (!STATUS_200.test(head)) {
        socket.destroy();
        return;
      }
      tunnelled = true;
      socket.write(GET);
    } else if (!got200) {
      got200 = STATUS_200.test(data.toString('latin1', 0, 16));
    }
  });
  const finish = (good: boolean) => {
    if (finished) return;
    finished = true;
    if (good && got200) {
      ok++;
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    } else {
      failed++;
    }
    done();
  };
  socket.on('end', () => {
    finish(true);
    socket.destroy();
  });
  socket.on('error', () => finish(false));
  socket.on('close', () => finish(false));
}

const started = Date.now();
let running = conc;
let reported = false;

function report(): void {
  if (reported) return;
  reported = true;
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  const result = { ok, err: failed, rate: Math.round(ok / elapsed), p50: q(0.5), p99: q(0.99) };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function loop(): void {
  if (Date.now() < end) {
    one(loop);
  } else if (--running === 0) {
    report();
  }
}

for (let i = 0; i < conc; i++) loop();
setTimeout(
  () => {
    report();
    process.exit(0);
  },
  (secs + 10) * 1000,
).unref();
