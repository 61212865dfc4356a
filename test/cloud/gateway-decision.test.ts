// decideTunnel, the gateway's one decision per CONNECT, without sockets: onboarding targets for
// anyone; otherwise who is asking first (certificate, then association), then what they ask for.
import { describe, expect, it } from 'vitest';
import { decideTunnel, type PeerIdentity } from '../../cloud/index.ts';

const gateway = {
  key: 'gw-key',
  id: '/subscriptions/s/resourceGroups/g/providers/Microsoft.HybridCompute/gateways/gw',
};
const target = { host: 'agentserviceapi.guestconfiguration.arc-local.test', port: 443 };
const machine = (gatewayKey: string | undefined): PeerIdentity => ({
  kind: 'machine',
  resourceId: '/m',
  gatewayKey,
});

const decide = (identity: PeerIdentity, onboarding: boolean, served: boolean) => {
  const d = decideTunnel({ target, identity, onboarding, served, gateway });
  return d.kind === 'tunnel' ? `tunnel:${d.machine ?? '-'}` : d.error.code;
};

describe('decideTunnel', () => {
  it.each([
    ['no certificate, onboarding target', { kind: 'none' }, true, true, 'tunnel:-'],
    ['invalid certificate, onboarding target', { kind: 'invalid', reason: 'x' }, true, true, 'tunnel:-'],
    ['machine, onboarding target, not associated', machine(undefined), true, true, 'tunnel:/m'],
    ['no certificate', { kind: 'none' }, false, true, 'ClientCertificateRequired'],
    ['no certificate, target not served', { kind: 'none' }, false, false, 'ClientCertificateRequired'],
    ['invalid certificate', { kind: 'invalid', reason: 'x' }, false, true, 'InvalidClientCertificate'],
    ['machine without a gateway', machine(undefined), false, true, 'MachineNotAssociated'],
    ['machine of another gateway', machine('other'), false, true, 'MachineNotAssociated'],
    ['associated machine, target not served', machine('gw-key'), false, false, 'TargetNotAllowed'],
    ['associated machine, served target', machine('gw-key'), false, true, 'tunnel:/m'],
  ] as [string, PeerIdentity, boolean, boolean, string][])(
    '%s: %s',
    (_name, identity, onboarding, served, want) => {
      expect(decide(identity, onboarding, served)).toBe(want);
    },
  );

  it('gives each refusal its status', () => {
    const d = decideTunnel({
      target,
      identity: machine(undefined),
      onboarding: false,
      served: true,
      gateway,
    });
    expect(d.kind === 'refuse' && [d.error.status, d.error.toJSON().error.code]).toEqual([
      403,
      'MachineNotAssociated',
    ]);
  });
});
