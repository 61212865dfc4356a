// Pure decisions about a machine's connection: its status at an instant, and when its certificate
// should be renewed. No clock of their own: the caller passes `now`, so tests can move time.
// Status rules: ../shared/reference/arc-cli-proxy-gateway.md section 8.

export type MachineStatus = 'Connected' | 'Disconnected' | 'Expired';

export interface ConnectionFacts {
  createdAt: Date;
  lastHeartbeat?: Date | undefined;
  /** When the current run of heartbeats began (the last switch to Connected). */
  connectedSince?: Date | undefined;
  /** Expiry of the machine's newest certificate; absent before registration. */
  certificateNotAfter?: Date | undefined;
}

export interface StatusPolicy {
  /** Without a heartbeat for longer than this, a machine is Disconnected. */
  disconnectAfterMs: number;
}

/**
 * Expired once the certificate has expired (the machine can no longer authenticate); else Connected
 * while the last heartbeat is at most `disconnectAfterMs` old; else Disconnected. `since` is the
 * time of the last change, ARM's lastStatusChange.
 */
export function machineStatus(
  facts: ConnectionFacts,
  now: Date,
  policy: StatusPolicy,
): { status: MachineStatus; since: Date } {
  const t = now.getTime();
  if (facts.certificateNotAfter && t >= facts.certificateNotAfter.getTime())
    return { status: 'Expired', since: facts.certificateNotAfter };
  if (facts.lastHeartbeat && t - facts.lastHeartbeat.getTime() <= policy.disconnectAfterMs)
    return { status: 'Connected', since: facts.connectedSince ?? facts.lastHeartbeat };
  if (facts.lastHeartbeat)
    return {
      status: 'Disconnected',
      since: new Date(facts.lastHeartbeat.getTime() + policy.disconnectAfterMs),
    };
  return { status: 'Disconnected', since: facts.createdAt };
}

const DAY_MS = 86_400_000;

/** When a certificate valid until `notAfter` should be renewed: once `renewDays` or fewer remain. */
export const renewAfter = (notAfter: Date, renewDays: number): Date =>
  new Date(notAfter.getTime() - renewDays * DAY_MS);
