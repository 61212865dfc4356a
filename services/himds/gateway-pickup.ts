// What the agent does with the cloud's word on its Arc gateway, as pure decisions: the heartbeat
// answer's `gateway` against cloudconfig.json (write or keep, and the log line), and what to do when
// the gateway itself refuses this machine. The Arc Proxy watches cloudconfig.json, so writing it is
// how an association made or removed through ARM takes effect (as agents >= 1.51 do; reference 6.2).
import { fitsSchema, type CloudConfig, type GatewayConfig } from '../../core/index.ts';

export type CloudConfigChange =
  | { write: false; /** Why the cloud's answer was not used, for a warning. */ problem?: string }
  | { write: true; next: CloudConfig; message: string };

const KEEP: CloudConfigChange = { write: false };

const named = (g: GatewayConfig | null): string => (g ? g.url : 'none');

const sortedEndpoints = (g: GatewayConfig): string =>
  g.endpoints
    .map((e) => e.toLowerCase())
    .sort()
    .join('\n');

/** Same gateway, same URL, same endpoints (in any order; names are case-insensitive). */
export function sameGateway(a: GatewayConfig | null, b: GatewayConfig | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.id.toLowerCase() === b.id.toLowerCase() &&
    a.url.toLowerCase() === b.url.toLowerCase() &&
    sortedEndpoints(a) === sortedEndpoints(b)
  );
}

/**
 * The heartbeat's pick-up. `answer` is the answer's `gateway` field as received: undefined when the
 * cloud does not say (a cloud without gateways), which keeps the file as it is. `current` is
 * undefined when cloudconfig.json cannot be read: the cloud's word replaces it.
 */
export function decideGatewayPickup(
  current: CloudConfig | undefined,
  answer: unknown,
  now: Date,
): CloudConfigChange {
  if (answer === undefined) return KEEP;
  if (answer !== null && !fitsSchema('GatewayConfigSchema', answer))
    return {
      write: false,
      problem: 'the heartbeat answer names a gateway without id, https url and endpoints',
    };
  const next = answer;
  if (current === undefined)
    return {
      write: true,
      next: { gateway: next, updatedAt: now.toISOString() },
      message: `gateway association changed: unreadable cloudconfig.json -> ${named(next)}`,
    };
  const was = current.gateway;
  if (sameGateway(was, next)) return KEEP;
  const message =
    was && next && was.id.toLowerCase() === next.id.toLowerCase() && was.url === next.url
      ? `gateway endpoints changed: ${next.url} now serves ${next.endpoints.length} patterns (was ${was.endpoints.length})`
      : `gateway association changed: ${named(was)} -> ${named(next)}`;
  return { write: true, next: { ...current, gateway: next, updatedAt: now.toISOString() }, message };
}

/**
 * The gateway refused this machine's client certificate (its association was removed through ARM,
 * or the gateway deleted): the cloud can only be asked without the gateway, so go without it until
 * a heartbeat says otherwise. `reason` is the Arc Proxy's explanation (no secret in it).
 */
export function decideGatewayRefused(
  current: CloudConfig | undefined,
  reason: string,
  now: Date,
): CloudConfigChange {
  if (!current?.gateway) return KEEP;
  return {
    write: true,
    next: { ...current, gateway: null, updatedAt: now.toISOString() },
    message: `gateway association changed: ${current.gateway.url} -> none (the gateway refused this machine: ${reason}; the next heartbeat goes without it)`,
  };
}

/**
 * After going without a refused gateway, the heartbeat failed again: where the cloud is reachable
 * only through the gateway (a locked-down network) the association may be back by now, so try the
 * gateway again. Each failed attempt alternates, within the heartbeat's backoff.
 */
export function decideGatewayRetry(
  current: CloudConfig | undefined,
  dropped: GatewayConfig | undefined,
  now: Date,
): CloudConfigChange {
  if (!dropped || !current || current.gateway) return KEEP;
  return {
    write: true,
    next: { ...current, gateway: dropped, updatedAt: now.toISOString() },
    message: `gateway association changed: none -> ${dropped.url} (the cloud cannot be reached without the gateway; trying it again)`,
  };
}
