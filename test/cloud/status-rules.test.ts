// The pure decisions, without sockets: status at an instant, the renewal date, api-versions.
import { describe, expect, it } from 'vitest';
import { checkApiVersion, machineStatus, renewAfter } from '../../cloud/index.ts';

const MIN = 60_000;
const t0 = new Date('2030-01-01T00:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const policy = { disconnectAfterMs: 15 * MIN };

describe('machineStatus', () => {
  it('is Disconnected since creation before any heartbeat', () => {
    expect(machineStatus({ createdAt: t0 }, at(MIN), policy)).toEqual({ status: 'Disconnected', since: t0 });
  });

  it('is Connected up to exactly 15 minutes after the last heartbeat, Disconnected after', () => {
    const facts = { createdAt: t0, lastHeartbeat: at(0), connectedSince: at(0) };
    expect(machineStatus(facts, at(15 * MIN), policy)).toEqual({ status: 'Connected', since: at(0) });
    expect(machineStatus(facts, at(15 * MIN + 1), policy)).toEqual({
      status: 'Disconnected',
      since: at(15 * MIN),
    });
  });

  it('is Expired from the certificate’s notAfter, whatever the heartbeats', () => {
    const facts = { createdAt: t0, lastHeartbeat: at(10 * MIN), certificateNotAfter: at(11 * MIN) };
    expect(machineStatus(facts, at(11 * MIN), policy)).toEqual({ status: 'Expired', since: at(11 * MIN) });
    expect(machineStatus(facts, at(10 * MIN + 1), policy).status).toBe('Connected');
  });
});

describe('renewAfter', () => {
  it('is notAfter minus the renewal window', () => {
    expect(renewAfter(new Date('2030-03-31T00:00:00Z'), 45)).toEqual(new Date('2030-02-14T00:00:00Z'));
  });
});

describe('checkApiVersion', () => {
  it('accepts the supported versions, and names them when refusing', () => {
    expect(() => checkApiVersion('2021-05-20')).not.toThrow();
    expect(() => checkApiVersion('2024-07-10')).not.toThrow();
    expect(() => checkApiVersion(undefined)).toThrow(
      expect.objectContaining({ code: 'MissingApiVersionParameter' }),
    );
    expect(() => checkApiVersion('v1')).toThrow(
      expect.objectContaining({ code: 'InvalidApiVersionParameter' }),
    );
    expect(() => checkApiVersion('2099-01-01-preview')).toThrow(
      expect.objectContaining({ code: 'NoRegisteredProviderFound', status: 400 }),
    );
  });
});
