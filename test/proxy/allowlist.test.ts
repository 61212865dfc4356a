// The endpoint allow-list, audit then enforce, in a running agent: a configuration change applies
// to new connections without a restart, and open tunnels are not cut.
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLocalConfig } from '../../core/index.ts';
import { azcmagent, startDaemon, type Daemon } from '../helpers/cli.ts';
import { closeServer, curl, eventually, startEcho, startOrigin, tempDir } from '../helpers/world.ts';

let home: string;
let daemon: Daemon;
let origin: Awaited<ReturnType<typeof startOrigin>>;
let echo: Awaited<ReturnType<typeof startEcho>>;

beforeAll(async () => {
  home = tempDir();
  [origin, echo] = await Promise.all([startOrigin(), startEcho()]);
  daemon = await startDaemon(['--services', 'arcproxy', '--home', home, '--proxy-port', '0']);
});
afterAll(async () => {
  await daemon.stop();
  await Promise.all([closeServer(origin.server), closeServer(echo.server)]);
});

const proxy = () => `http://ext@127.0.0.1:${daemon.port}`;
const setConfig = (c: Record<string, unknown>) => writeLocalConfig(join(home, 'localconfig.json'), c);

function openTunnel(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(daemon.port, '127.0.0.1', () =>
      s.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: x\r\n\r\n`),
    );
    s.once('data', (d) =>
      d.toString().startsWith('HTTP/1.1 200') ? resolve(s) : reject(new Error(d.toString())),
    );
    s.on('error', reject);
  });
}
const roundTrip = (s: net.Socket, text: string) =>
  new Promise<string>((resolve) => {
    s.once('data', (d) => resolve(d.toString()));
    s.write(text);
  });

describe('allow-list', () => {
  it('audit (the default) lets unknown destinations through and reports them', async () => {
    const r = await curl(['-x', proxy(), `http://127.0.0.1:${origin.port}/audit`]);
    expect(JSON.parse(r.stdout)).toMatchObject({ url: '/audit' });
    const denied = await azcmagent(['proxy', 'denied', '--json', '--home', home]);
    expect(denied.code).toBe(0);
    expect(JSON.parse(denied.stdout)).toMatchObject({
      running: true,
      destinations: [{ destination: `127.0.0.1:${origin.port}`, denied: 0, wouldDeny: 1, clients: ['ext'] }],
    });
  });

  it('enforce refuses them with 403 and the command that allows them, live, and keeps open tunnels', async () => {
    const tunnel = await openTunnel();
    expect(await roundTrip(tunnel, 'before')).toBe('before');
    await setConfig({ 'arcproxy.allowlist.mode': 'enforce' });
    const dest = `127.0.0.1:${origin.port}`;
    await eventually(
      async () => (await curl(['-i', '-x', proxy(), `http://${dest}/x`])).stdout.startsWith('HTTP/1.1 403'),
      1_000,
    );
    const forwarded = await curl(['-i', '-x', proxy(), `http://${dest}/enforced`]);
    expect(forwarded.stdout).toMatch(/x-arc-proxy-error: ARCPROXY_DENIED/i);
    const body = JSON.parse(forwarded.stdout.split('\r\n\r\n')[1]!) as {
      error: { code: string; action: string };
    };
    expect(body.error).toMatchObject({
      code: 'ARCPROXY_DENIED',
      action: `azcmagent config set arcproxy.allowlist ${dest} --add`,
    });
    const connect = await curl(['-v', '-p', '-x', proxy(), `http://${dest}/c`]);
    expect(connect.stderr).toMatch(/CONNECT tunnel failed, response 403/);
    // The tunnel opened before the change still works.
    expect(await roundTrip(tunnel, 'after')).toBe('after');
    tunnel.destroy();
  });

  it('an added allow-list entry applies without a restart', async () => {
    await setConfig({
      'arcproxy.allowlist.mode': 'enforce',
      'arcproxy.allowlist': [`127.0.0.1:${origin.port}`],
    });
    await eventually(
      async () => (await curl(['-x', proxy(), `http://127.0.0.1:${origin.port}/ok`])).stdout.includes('/ok'),
      1_000,
    );
    const other = await curl(['-i', '-x', proxy(), `http://localhost:${origin.port}/no`]);
    expect(other.stdout).toMatch(/^HTTP\/1\.1 403/);
    const denied = JSON.parse((await azcmagent(['proxy', 'denied', '--json', '--home', home])).stdout) as {
      destinations: { destination: string; denied: number }[];
    };
    expect(denied.destinations.find((d) => d.destination === `localhost:${origin.port}`)?.denied).toBe(1);
  });
});
