// openGatewayTunnel against the local cloud's real Arc gateway: the nested CONNECT inside TLS, an
// inner TLS session end to end, bytes both ways, TLS session resumption, and the way through an
// enterprise proxy in front of the gateway.
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGatewayTlsCache,
  openGatewayTunnel,
  parseUpstreamProxy,
  type Tunnel,
} from '../../gateway-client/index.ts';
import { startEnterpriseProxy } from '../helpers/enterprise-proxy.ts';
import { closeServer, startEcho } from '../helpers/world.ts';
import { startGatewayWorld, type GatewayWorld } from './world.ts';

let w: GatewayWorld;
let echo: Awaited<ReturnType<typeof startEcho>>;
const ECHO = 'echo.test';

beforeAll(async () => {
  echo = await startEcho();
  w = await startGatewayWorld({ [ECHO]: echo.port });
});
afterAll(async () => {
  await w.close();
  await closeServer(echo.server);
});

const options = (extra: Partial<Parameters<typeof openGatewayTunnel>[2]> = {}) => ({
  resolve: w.resolve,
  ca: w.ca,
  connectTimeoutMs: 10_000,
  ...extra,
});

/** Writes `data` into the tunnel and resolves with the first `data.length` bytes that come back. */
function roundTrip(t: Tunnel, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = t.head;
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= data.length) {
        t.socket.off('data', onData);
        resolve(got.subarray(0, data.length));
      }
    };
    t.socket.on('data', onData);
    t.socket.once('error', reject);
    t.socket.resume();
    t.socket.write(data);
  });
}

describe('a tunnel through the Arc gateway', () => {
  it('before connect (no certificate) reaches an onboarding endpoint, with TLS end to end inside', async () => {
    const t = await openGatewayTunnel(w.gateway, { host: 'login.arc-local.test', port: 443 }, options());
    expect(t.overheadWritten).toBe(
      Buffer.byteLength(
        'CONNECT login.arc-local.test:443 HTTP/1.1\r\nHost: login.arc-local.test:443\r\n\r\n',
      ),
    );
    expect(t.overheadRead).toBe(Buffer.byteLength('HTTP/1.1 200 Connection Established\r\n\r\n'));
    const inner = tls.connect({ socket: t.socket, servername: 'login.arc-local.test', ca: w.ca });
    await new Promise((resolve) => inner.once('secureConnect', resolve));
    // The inner session is with the login host itself: the gateway cannot read it.
    expect(inner.getPeerCertificate().subjectaltname).toContain('login.arc-local.test');
    inner.write('GET / HTTP/1.1\r\nHost: login.arc-local.test\r\nConnection: close\r\n\r\n');
    let answer = '';
    inner.on('data', (d: Buffer) => (answer += d.toString()));
    await new Promise((resolve) => inner.once('end', resolve));
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('arc-local-cloud');
    inner.destroy();
  });

  it('with the certificate of an associated machine reaches a served target; bytes pass both ways unchanged', async () => {
    const m = await w.machine('tunnel-bytes');
    await w.associate(m, w.gateway.id);
    const t = await openGatewayTunnel(
      w.gateway,
      { host: ECHO, port: echo.port },
      options({ identity: m.identity }),
    );
    const data = Buffer.alloc(256 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = i % 251;
    expect((await roundTrip(t, data)).equals(data)).toBe(true);
    t.socket.destroy();
    expect(w.t.logLines()).toContain(m.id);
  });

  it('resumes the TLS session of the last tunnel, but not across machine certificates', async () => {
    const m = await w.machine('tunnel-resume');
    await w.associate(m, w.gateway.id);
    const cache = createGatewayTlsCache();
    const open = (identity = m.identity) =>
      openGatewayTunnel(w.gateway, { host: ECHO, port: echo.port }, options({ identity, tls: cache }));
    const first = await open();
    expect((first.socket as tls.TLSSocket).isSessionReused()).toBe(false);
    first.socket.destroy();
    const second = await open();
    expect((second.socket as tls.TLSSocket).isSessionReused()).toBe(true);
    // Resumed, and still this machine's tunnel: the gateway let it through to a target that needs a certificate.
    expect((await roundTrip(second, Buffer.from('still me'))).toString()).toBe('still me');
    second.socket.destroy();
    const other = await w.machine('tunnel-resume-other');
    await w.associate(other, w.gateway.id);
    const third = await open(other.identity);
    expect((third.socket as tls.TLSSocket).isSessionReused()).toBe(false);
    third.socket.destroy();
  });

  it('through an enterprise proxy: the proxy is asked for the gateway only, and the TLS session runs inside', async () => {
    const m = await w.machine('tunnel-via');
    await w.associate(m, w.gateway.id);
    const gatewayPort = Number(w.resolve[w.gateway.host]!.split(':').pop());
    const corp = await startEnterpriseProxy({
      credentials: 'alice:s3cret',
      resolve: { [w.gateway.host]: gatewayPort },
    });
    try {
      const via = parseUpstreamProxy(corp.url)!;
      const t = await openGatewayTunnel(
        w.gateway,
        { host: ECHO, port: echo.port },
        options({ identity: m.identity, via }),
      );
      expect((await roundTrip(t, Buffer.from('hello through two hops'))).toString()).toBe(
        'hello through two hops',
      );
      t.socket.destroy();
      expect(corp.asked).toEqual([`CONNECT ${w.gateway.host}:443`]);
      expect(corp.authorizations).toEqual([`Basic ${Buffer.from('alice:s3cret').toString('base64')}`]);
    } finally {
      await corp.close();
    }
  });
});
