// The real local cloud (cloud/, what `arc-local-cloud` runs) behind the CloudForTests interface of
// test-cloud.ts, so that a HIMDS test moves onto it with one line. `enroll` connects a home the way
// `azcmagent connect` does: a client-credentials token for the onboarding service principal, the
// ARM machine resource, then the machine identity registered with the identity service, all through
// an Arc Proxy on loopback that resolves the cloud's names.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair } from '../../../certs/index.ts';
import { startLocalCloud } from '../../../cloud/index.ts';
import {
  createOutboundDispatcher,
  writeAgentState,
  type CloudProfile,
  type HomeLayout,
} from '../../../core/index.ts';
import {
  armTokenFromSecret,
  createMachine,
  instanceFingerprint,
  machineResourceId,
  registerIdentity,
  saveMachineIdentity,
} from '../../../services/himds/index.ts';
import { memoryLogger, startProxy, tempDir } from '../../helpers/world.ts';
import type { CloudForTests, EnrolledMachine } from './test-cloud.ts';

export async function startLocalCloudForTests(): Promise<CloudForTests> {
  const cloud = await startLocalCloud({
    dataDir: join(tempDir('azcm-local-cloud-'), 'data'),
    host: '127.0.0.1',
    port: 0,
    log: memoryLogger('warn').log,
  });
  const profile = JSON.parse(await readFile(cloud.files.profile, 'utf8')) as CloudProfile;
  const connect = JSON.parse(await readFile(cloud.files.connect, 'utf8')) as Record<string, string>;
  const proxy = await startProxy({ cloud: profile });
  const dispatcher = await createOutboundDispatcher({
    proxyUrl: proxy.url,
    clientId: 'azcmagent',
    ca: cloud.caPem,
  });
  const session = { dispatcher, cloud: profile };
  return {
    profilePath: cloud.files.profile,
    profile,
    caPem: cloud.caPem,
    issuer: `${profile.endpoints.login}/${cloud.tenantId}/v2.0`,
    // Every name of the cloud is served on its one port, and its certificate names 127.0.0.1 too.
    jwksUrl: `${cloud.url}/${cloud.tenantId}/discovery/v2.0/keys`,
    async enroll(home: HomeLayout): Promise<EnrolledMachine> {
      const token = await armTokenFromSecret({
        ...session,
        tenantId: cloud.tenantId,
        clientId: connect['service-principal-id']!,
        clientSecret: connect['service-principal-secret']!,
      });
      const name = `m-${randomUUID().slice(0, 8)}`;
      const id = machineResourceId(cloud.subscriptionId, cloud.resourceGroup, name);
      await createMachine({ ...session, token, id, location: cloud.location, tags: {}, properties: {} });
      const keys = await generateKeyPair();
      const issued = (await registerIdentity({
        ...session,
        token,
        resourceId: id,
        publicKey: keys.publicKeyPem,
        fingerprint: await instanceFingerprint(),
        metadata: {},
      })) as Awaited<ReturnType<typeof registerIdentity>> & {
        clientId: string;
        principalId: string;
        vmId: string;
      };
      await saveMachineIdentity(home, {
        keyPem: keys.privateKeyPem,
        certPem: issued.certificate,
        caPem: issued.caCertificate,
        renewAfter: issued.renewAfter,
        notAfter: issued.notAfter,
      });
      await writeAgentState(home.agentConfig, {
        resourceName: name,
        resourceGroup: cloud.resourceGroup,
        subscriptionId: cloud.subscriptionId,
        tenantId: cloud.tenantId,
        location: cloud.location,
        cloud: cloud.files.profile,
        resourceId: id,
        vmId: issued.vmId,
        status: 'Connected',
        connectedAt: new Date().toISOString(),
        certificateNotAfter: issued.notAfter,
      });
      return {
        resourceId: id,
        clientId: issued.clientId,
        principalId: issued.principalId,
        vmId: issued.vmId,
      };
    },
    async close() {
      await dispatcher.close();
      await proxy.close();
      await cloud.close();
    },
  };
}
