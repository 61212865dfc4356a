// CONNECT tunnels with curl -p -x and real TLS end to end, with certificates made at test time.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeServer,
  curl,
  listen,
  makePki,
  startProxy,
  type Pki,
  type TestProxy,
} from '../helpers/world.ts';

let pki: Pki;
let tlsOrigin: https.Server;
let tlsPort: number;
let p: TestProxy;

beforeAll(async () => {
  pki = makePki();
  tlsOrigin = https.createServer(
    { key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) },
    (req, res) => {
      res.end(`secure ${req.url}`);
    },
  );
  tlsPort = await listen(tlsOrigin);
  p = await startProxy();
});
afterAll(async () => {
  await p.close();
  await closeServer(tlsOrigin);
});

describe('CONNECT tunnels', () => {
  it('carries TLS end to end for curl -x (https target)', async () => {
    const r = await curl([
      '--cacert',
      pki.caFile,
      '-x',
      `http://ext1@127.0.0.1:${p.port}`,
      `https://localhost:${tlsPort}/a`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('secure /a');
  });

  it('carries plain HTTP inside a tunnel for curl -p -x', async () => {
    const r = await curl(['-v', '-p', '-x', p.url, '--cacert', pki.caFile, `https://localhost:${tlsPort}/b`]);
    expect(r.stdout).toBe('secure /b');
    expect(r.stderr).toMatch(/CONNECT localhost:\d+ HTTP\/1\.1/);
    expect(r.stderr).toMatch(/200 Connection Established/i);
  });

  it('verifies the destination end to end: a wrong CA fails in the client, not in the proxy', async () => {
    const other = makePki();
    const r = await curl(['--cacert', other.caFile, '-x', p.url, `https://localhost:${tlsPort}/c`]);
    expect(r.code).toBe(60);
  });
});
