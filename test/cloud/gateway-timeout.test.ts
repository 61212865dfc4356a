// The gateway's two timers. A target that never completes the TCP handshake: the gateway gives up
// after its connect timeout and answers 504 TargetTimeout. A tunnel where nothing moves either way:
// closed after the idle timeout. The gateway server is built on its own here, with a dial that never
// connects for one target (a blackhole address is not something loopback can offer reliably).
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileTargets, createGatewayServer, type GatewayServer } from '../../cloud/index.ts';
import { startSilentServer, type SilentServer } from '../helpers/faults.ts';
import { listen, makePki, memoryLogger } from '../helpers/world.ts';

let gw: GatewayServer;
let port: number;
let ca: string;
let quiet: SilentServer;
const pending: net.Socket[] = [];
beforeAll(async () => {
  quiet = await startSilentServer();
  const pki = makePki();
  ca = pki.ca;
  gw = createGatewayServer({
    tls: {
      keyPem: readFileSync(pki.keyFile, 'utf8'),
      certPem: readFileSync(pki.certFile, 'utf8'),
      caPem: pki.ca,
    },
    gateway: {
      key: 'gw',
      id: '/subscriptions/s/resourceGroups/g/providers/Microsoft.HybridCompute/gateways/gw',
    },
    identify: () => ({ kind: 'none' }),
    served: compileTargets(['slow.test', 'quiet.test']).set,
    onboarding: compileTargets(['slow.test', 'quiet.test']).set,
    locate: (target) => target,
    dial: (to) => {
      if (to.host === 'quiet.test') return net.connect({ host: '127.0.0.1', port: quiet.port });
      const s = new net.Socket();
      pending.push(s);
      return s;
    },
    connectTimeoutMs: 50,
    idleTimeoutMs: 100,
    log: memoryLogger().log,
  });
  port = await listen(gw.server);
});
afterAll(async () => {
  await gw.close();
  await quiet.close();
});

function connect(target: string): { socket: tls.TLSSocket; output: () => string; closed: Promise<unknown> } {
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca });
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  let out = '';
  socket.on('data', (d: Buffer) => (out += d.toString()));
  return { socket, output: () => out, closed: new Promise((resolve) => socket.once('close', resolve)) };
}

describe('gateway timeouts', () => {
  it('answers 504 TargetTimeout and drops the dial', async () => {
    const c = connect('slow.test:443');
    await c.closed;
    const out = c.output();
    expect(out).toMatch(/^HTTP\/1\.1 504 Gateway Timeout\r\n/);
    expect(out).toContain('\r\nx-arc-gateway-error: TargetTimeout\r\n');
    expect(out).toContain('"code":"TargetTimeout"');
    expect(pending[0]?.destroyed).toBe(true);
  });

  it('closes a tunnel in which nothing moves', async () => {
    const c = connect('quiet.test:443');
    await c.closed;
    expect(c.output()).toBe('HTTP/1.1 200 Connection Established\r\n\r\n');
  });
});
