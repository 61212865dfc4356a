// A small stand-in for the local cloud's identity service, for HIMDS tests: HTTPS on loopback with
// its own CA, `POST /v1/machines/token {resource}` over mutual TLS with the machine certificate
// (cloud/README.md), answering RS256 JWTs signed with a key it publishes at `GET /jwks`.
//
// It has the interface a test needs from any cloud (CloudForTests), so that moving a test onto the
// real local cloud (cloud/) is one line: startLocalCloudForTests() in local-cloud.ts instead.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomUUID, X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { exportJWK, generateKeyPair as joseKeyPair, SignJWT, type JWK } from 'jose';
import { createCa, generateKeyPair, issueCertificate } from '../../../certs/index.ts';
import { writeAgentState, type AgentState, type CloudProfile, type HomeLayout } from '../../../core/index.ts';
import { machineResourceId, saveMachineIdentity } from '../../../services/himds/server.ts';
import { tempDir } from '../../helpers/world.ts';

export interface EnrolledMachine {
  resourceId: string;
  clientId: string;
  principalId: string;
  vmId: string;
}

/** What HIMDS tests need from a cloud; local-cloud.ts gives the same from the real local cloud. */
export interface CloudForTests {
  /** Path of the cloud profile file, as agentconfig.json names the cloud. */
  profilePath: string;
  profile: CloudProfile;
  /** The CA of the cloud's TLS certificate (PEM). */
  caPem: string;
  issuer: string;
  jwksUrl: string;
  /** Connects `home` as a new machine: its identity under <home>/certs and agentconfig.json. */
  enroll(home: HomeLayout, state?: Partial<AgentState>): Promise<EnrolledMachine>;
  close(): Promise<void>;
}

export interface TestCloud extends CloudForTests {
  /** Token requests the identity service has answered. */
  readonly tokenRequests: { resource: string; thumbprint: string }[];
  /** Seconds the tokens it signs live. */
  tokenLifetimeSeconds: number;
}

export async function startTestCloud(): Promise<TestCloud> {
  const dir = tempDir('azcm-test-cloud-');
  const ca = await createCa('HIMDS test cloud CA', 2);
  const serverKeys = await generateKeyPair();
  const serverCert = await issueCertificate({
    ca: ca.certPem,
    caKey: ca.privateKey,
    subjectPublicKey: serverKeys.publicKey,
    subject: 'CN=localhost',
    serverNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    serverAuth: true,
    days: 2,
  });
  const signing = await joseKeyPair('RS256');
  const kid = randomUUID();
  const jwks: { keys: JWK[] } = {
    keys: [{ ...(await exportJWK(signing.publicKey)), kid, use: 'sig', alg: 'RS256' }],
  };
  const tenantId = randomUUID();
  const machines = new Map<string, EnrolledMachine>(); // by certificate fingerprint (SHA-256)
  const tokenRequests: { resource: string; thumbprint: string }[] = [];
  let issuer = '';

  const server = https.createServer(
    {
      key: serverKeys.privateKeyPem,
      cert: serverCert,
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET' && req.url === '/jwks') return send(200, jwks);
      if (req.method !== 'POST' || req.url !== '/v1/machines/token')
        return send(404, { error: { code: 'NotFound', message: req.url } });
      const socket = req.socket as TLSSocket;
      const raw = socket.getPeerCertificate().raw as Buffer | undefined;
      const thumbprint = raw ? new X509Certificate(raw).fingerprint256 : '';
      const machine = socket.authorized ? machines.get(thumbprint) : undefined;
      if (!machine)
        return send(401, { error: { code: 'InvalidClientCertificate', message: 'unknown machine' } });
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        void (async () => {
          const resource = String((JSON.parse(text) as { resource?: string }).resource ?? '');
          tokenRequests.push({ resource, thumbprint });
          const iat = Math.floor(Date.now() / 1000);
          const exp = iat + cloud.tokenLifetimeSeconds;
          const token = await new SignJWT({
            oid: machine.principalId,
            appid: machine.clientId,
            tid: tenantId,
            xms_mirid: machine.resourceId,
          })
            .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
            .setIssuer(issuer)
            .setAudience(resource.replace(/\/\.default$/, ''))
            .setSubject(machine.principalId)
            .setIssuedAt(iat)
            .setNotBefore(iat)
            .setExpirationTime(exp)
            .sign(signing.privateKey);
          send(200, {
            access_token: token,
            client_id: machine.clientId,
            expires_in: String(exp - iat),
            expires_on: String(exp),
            ext_expires_in: String(exp - iat),
            not_before: String(iat),
            resource,
            token_type: 'Bearer',
          });
        })();
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `https://localhost:${(server.address() as AddressInfo).port}`;
  issuer = `${base}/${tenantId}/v2.0`;
  const profile: CloudProfile = {
    name: 'Local',
    endpoints: {
      arm: base,
      login: base,
      hisGlobal: base,
      guestConfiguration: base,
      notifications: base,
      gatewayDomain: 'gw.test',
    },
    allow: [{ host: 'localhost', port: 443, purpose: 'test cloud' }],
    caFile: join(dir, 'ca.pem'),
  };
  await writeFile(join(dir, 'ca.pem'), ca.certPem);
  const profilePath = join(dir, 'profile.json');
  await writeFile(profilePath, JSON.stringify(profile, null, 2));

  const cloud: TestCloud = {
    profilePath,
    profile,
    caPem: ca.certPem,
    issuer,
    jwksUrl: `${base}/jwks`,
    tokenRequests,
    tokenLifetimeSeconds: 24 * 3600,
    async enroll(home, state = {}) {
      const keys = await generateKeyPair();
      const certPem = await issueCertificate({
        ca: ca.certPem,
        caKey: ca.privateKey,
        subjectPublicKey: keys.publicKey,
        subject: 'CN=machine',
        clientAuth: true,
        days: 2,
      });
      const resourceId = machineResourceId(randomUUID(), 'rg-himds', `m-${randomUUID().slice(0, 8)}`);
      const machine = { resourceId, clientId: randomUUID(), principalId: randomUUID(), vmId: randomUUID() };
      machines.set(new X509Certificate(certPem).fingerprint256, machine);
      const notAfter = new X509Certificate(certPem).validTo;
      await saveMachineIdentity(home, {
        keyPem: keys.privateKeyPem,
        certPem,
        caPem: ca.certPem,
        notAfter: new Date(notAfter).toISOString(),
      });
      await writeAgentState(home.agentConfig, {
        resourceName: resourceId.split('/').pop()!,
        resourceGroup: 'rg-himds',
        subscriptionId: resourceId.split('/')[2]!,
        tenantId,
        location: 'eastus',
        cloud: profilePath,
        resourceId,
        vmId: machine.vmId,
        status: 'Connected',
        connectedAt: new Date().toISOString(),
        certificateNotAfter: new Date(notAfter).toISOString(),
        ...state,
      });
      return machine;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return cloud;
}
