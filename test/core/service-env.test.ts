// serviceEnvironment is what every child of `azcmagent run` gets: the identity endpoint, and the Arc
// Proxy as the way out under the child's own name. The last case hands it to curl, a client that
// reads only the lower-case http_proxy for http:// URLs, and checks what reached the proxy's meter.
import { describe, expect, it } from 'vitest';
import { AzureCloud, serviceEnvironment } from '../../core/index.ts';
import { closeServer, execFileP, startOrigin, startProxy } from '../helpers/world.ts';

describe('serviceEnvironment', () => {
  it('points at HIMDS and at the Arc Proxy with the client id as user name, loopback excepted', () => {
    const env = serviceEnvironment({ clientId: 'extd', proxyPort: 40343, himdsPort: 40342 });
    expect(env).toEqual({
      IDENTITY_ENDPOINT: 'http://127.0.0.1:40342/metadata/identity/oauth2/token',
      IMDS_ENDPOINT: 'http://127.0.0.1:40342',
      HTTPS_PROXY: 'http://extd@127.0.0.1:40343',
      HTTP_PROXY: 'http://extd@127.0.0.1:40343',
      https_proxy: 'http://extd@127.0.0.1:40343',
      http_proxy: 'http://extd@127.0.0.1:40343',
      NO_PROXY: 'localhost,127.0.0.1,::1',
      no_proxy: 'localhost,127.0.0.1,::1',
    });
  });

  it('takes the ports it is given', () => {
    const env = serviceEnvironment({ clientId: 'gcad', proxyPort: 5000, himdsPort: 6000 });
    expect(env['HTTPS_PROXY']).toBe('http://gcad@127.0.0.1:5000');
    expect(env['IDENTITY_ENDPOINT']).toBe('http://127.0.0.1:6000/metadata/identity/oauth2/token');
  });

  it("keeps the rest of the base environment and replaces the base's proxy settings", () => {
    const env = serviceEnvironment({
      clientId: 'himds',
      proxyPort: 40343,
      himdsPort: 40342,
      base: {
        PATH: '/usr/bin',
        LANG: 'C.UTF-8',
        https_proxy: 'http://corp-proxy:8080',
        HTTP_PROXY: 'http://corp-proxy:8080',
        NO_PROXY: '.contoso.com',
        no_proxy: '*',
      },
    });
    expect(env['PATH']).toBe('/usr/bin');
    expect(env['LANG']).toBe('C.UTF-8');
    for (const name of ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'])
      expect(env[name], name).toBe('http://himds@127.0.0.1:40343');
    expect(env['NO_PROXY']).toBe('localhost,127.0.0.1,::1');
    expect(env['no_proxy']).toBe('localhost,127.0.0.1,::1');
  });

  it('encodes an @ in a client id, so that the URL still names the proxy host', () => {
    const env = serviceEnvironment({ clientId: 'ext@1.2', proxyPort: 40343, himdsPort: 40342 });
    expect(new URL(env['HTTPS_PROXY'] ?? '').host).toBe('127.0.0.1:40343');
    expect(decodeURIComponent(new URL(env['HTTPS_PROXY'] ?? '').username)).toBe('ext@1.2');
  });

  it.each([
    ['an empty client id', { clientId: '', proxyPort: 1, himdsPort: 2 }],
    ['a client id with a colon', { clientId: 'a:b', proxyPort: 1, himdsPort: 2 }],
    ['a client id with a slash', { clientId: 'a/b', proxyPort: 1, himdsPort: 2 }],
    ['proxy port 0', { clientId: 'a', proxyPort: 0, himdsPort: 2 }],
    ['HIMDS port 65536', { clientId: 'a', proxyPort: 1, himdsPort: 65536 }],
  ])('refuses %s with ARGUMENT_INVALID', (_what, opts) => {
    expect(() => serviceEnvironment(opts)).toThrow(expect.objectContaining({ code: 'ARGUMENT_INVALID' }));
  });

  it('sends a real client through the Arc Proxy under its name, and loopback past it', async () => {
    const origin = await startOrigin();
    const proxy = await startProxy({
      cloud: { ...AzureCloud, resolve: { 'origin.test': `127.0.0.1:${origin.port}` } },
      config: { 'arcproxy.allowlist': ['origin.test'] },
    });
    const env = serviceEnvironment({ clientId: 'extd', proxyPort: proxy.port, himdsPort: 40342 });
    // Nothing but this environment (and PATH) tells curl where the proxy is.
    const run = (url: string) =>
      execFileP('curl', ['-sS', '--max-time', '20', '-o', '/dev/null', '-w', '%{http_code}', url], {
        env: { PATH: process.env['PATH'], ...env },
      });
    expect((await run('http://origin.test/bytes/10')).stdout).toBe('200');
    expect((await run(`http://127.0.0.1:${origin.port}/bytes/20`)).stdout).toBe('200');
    // The loopback request went direct: the origin saw no Via header from the proxy for it.
    expect(origin.seen.at(-1)?.['via']).toBeUndefined();
    expect(origin.seen.at(0)?.['via']).toBeDefined();
    const entries = proxy.proxy.meter.snapshot().entries;
    expect(entries).toEqual([
      expect.objectContaining({
        client: 'extd',
        destination: 'origin.test:80',
        requests: 1,
        bytesReceived: 10,
      }),
    ]);
    await proxy.close();
    await closeServer(origin.server);
  });
});
