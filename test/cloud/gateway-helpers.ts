// Clients of the local cloud's Arc gateway for tests: a raw TLS client that sends one CONNECT and
// reads the answer (the wire as the agent's gateway client sees it), curl arguments for an HTTPS
// proxy with a client certificate, and ARM calls that associate a machine with a gateway.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import type { LocalCloud } from '../../cloud/index.ts';
import { tempDir, type Registered, type TestCloud } from './helpers.ts';

export const GATEWAY_API = '2024-07-31-preview';

export interface GatewayAnswer {
  status: number;
  /** The x-arc-gateway-error header, if any. */
  code: string | undefined;
  head: string;
  /** The parsed JSON body of a refusal. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  /** After a 200: the tunnel. After a refusal: already closed by the gateway. */
  socket: tls.TLSSocket;
}

export interface GatewayClientOptions {
  cert?: string;
  key?: string;
  /** The request line's target; default `CONNECT <authority> HTTP/1.1`. */
  request?: string;
}

/**
 * TLS to the gateway as the agent does it (SNI the gateway's name, trusting only the cloud's CA,
 * the machine certificate if given), then one CONNECT. Resolves at the answer's head (200), or when
 * the gateway has closed after a refusal.
 */
export function gatewayConnect(
  cloud: LocalCloud,
  authority: string,
  o: GatewayClientOptions = {},
): Promise<GatewayAnswer> {
  const [host, port] = [cloud.gateway.address.replace(/:\d+$/, ''), cloud.gateway.port];
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      servername: cloud.gateway.host,
      ca: cloud.caPem,
      ...(o.cert ? { cert: o.cert, key: o.key } : {}),
    });
    let raw = Buffer.alloc(0);
    const answer = (): GatewayAnswer => {
      const text = raw.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const head = end < 0 ? text : text.slice(0, end);
      const rest = end < 0 ? '' : text.slice(end + 4);
      let body: unknown;
      try {
        body = rest ? JSON.parse(rest) : undefined;
      } catch {
        body = rest;
      }
      return {
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
        code: /^x-arc-gateway-error: (\S+)/im.exec(head)?.[1],
        head,
        body,
        socket,
      };
    };
    const onData = (d: Buffer) => {
      raw = Buffer.concat([raw, d]);
      if (/^HTTP\/1\.1 200 /.test(raw.toString('latin1')) && raw.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve(answer());
      }
    };
    socket.once('secureConnect', () => {
      socket.write(o.request ?? `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    });
    socket.on('data', onData);
    socket.once('end', () => resolve(answer()));
    socket.once('error', (err: Error) => (raw.length > 0 ? resolve(answer()) : reject(err)));
  });
}

/** Writes a machine's certificate and key to files, for curl and openssl. */
export function machineFiles(m: Registered): { cert: string; key: string } {
  const dir = tempDir('arc-gw-machine-');
  const files = { cert: join(dir, 'machine.pem'), key: join(dir, 'machine.key') };
  writeFileSync(files.cert, m.cert);
  writeFileSync(files.key, m.keys.privateKeyPem, { mode: 0o600 });
  return files;
}

/** curl's arguments for `url` through the gateway: CONNECT inside TLS to the gateway (--proxy https://). */
export function curlThroughGateway(
  cloud: LocalCloud,
  url: string,
  machine?: { cert: string; key: string },
): string[] {
  return [
    '--proxy',
    `https://${cloud.gateway.host}:${cloud.gateway.port}`,
    '--proxy-cacert',
    cloud.files.ca,
    ...(machine ? ['--proxy-cert', machine.cert, '--proxy-key', machine.key] : []),
    '--resolve',
    `${cloud.gateway.host}:${cloud.gateway.port}:${cloud.gateway.address.replace(/:\d+$/, '')}`,
    '--cacert',
    cloud.files.ca,
    url,
  ];
}

/** The ARM path of a machine's settings/default. */
export const settingsPath = (t: TestCloud, machineId: string, apiVersion = GATEWAY_API): string =>
  `${machineId}/providers/Microsoft.HybridCompute/settings/default?api-version=${apiVersion}`;

/** The ARM path of a gateway in the cloud's subscription. */
export function gatewayPath(t: TestCloud, name: string, group = 'rg1', apiVersion = GATEWAY_API) {
  const id = `/subscriptions/${t.cloud.subscriptionId}/resourceGroups/${group}/providers/Microsoft.HybridCompute/gateways/${name}`;
  return { id, path: `${id}?api-version=${apiVersion}` };
}

/** Associates a machine with a gateway (null or '' detaches it) through ARM; returns the answer. */
export async function associate(t: TestCloud, machineId: string, gatewayResourceId: string | null) {
  const token = await t.spToken();
  return t.call(settingsPath(t, machineId), {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}` },
    body: { properties: { gatewayProperties: { gatewayResourceId } } },
  });
}
