// One endpoint, probed the way the agent would reach it: the steps of the registry (steps.ts) in
// order, each timed, the first failure ending the probe with its stable code. A step may also record
// a problem that fails the endpoint without stopping the probe (a public address under
// --enable-pls-check: the endpoint is still worth probing for reachability).
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { AgentError, type CloudProfile } from '../../core/index.ts';
import type { DialOptions, DialResult, Route, RoutePolicy, Target } from '../../proxy/index.ts';
import { type Cause, causeOf } from './causes.ts';
import type { PlannedEndpoint } from './endpoints.ts';

export type StepName = 'route' | 'dns' | 'connect' | 'tls' | 'http';

/** What the whole run shares: the same inputs the Arc Proxy builds its routes from. */
export interface CheckEnv {
  cloud: CloudProfile;
  policy: RoutePolicy;
  dialOptions: DialOptions;
  /** PEM CAs that endpoint certificates must chain to (the cloud's); the default roots when undefined. */
  ca: string | undefined;
  /** --enable-pls-check: private-link endpoints must resolve to private addresses. */
  plsCheck: boolean;
  /** Reach every endpoint through this running Arc Proxy (connect's pre-check) instead of routing here. */
  arcProxyUrl: string | undefined;
  timeouts: { connectMs: number; tlsMs: number; httpMs: number };
  lookup: (host: string) => Promise<{ address: string; family: number }[]>;
  now: () => number;
}

export type RouteShown = 'direct' | 'upstream' | 'gateway' | 'deny' | 'arcproxy';

/** The state a probe builds up, step by step. */
export interface Probe {
  endpoint: PlannedEndpoint;
  target: Target;
  route: RouteShown | undefined;
  /** The dial route, when the route step chose one here (not through a running Arc Proxy). */
  dialRoute: Route | undefined;
  /** The enterprise proxy on the way, redacted. */
  proxy: string | undefined;
  dns: { addresses: string[]; private: boolean; source: 'dns' | 'resolve-map' } | undefined;
  /** host -> `addr:port` for the dial: the resolve map, or the address DNS gave. */
  resolve: Record<string, string> | undefined;
  tunnel: DialResult | undefined;
  tlsSocket: TLSSocket | undefined;
  tls: { version: string; cipher: string } | undefined;
  http: { status: number; date: string | undefined; sentAt: number; receivedAt: number } | undefined;
  /** Failures that do not stop the probe. */
  problems: { step: StepName; err: AgentError }[];
  notes: string[];
}

export interface EndpointStep {
  readonly name: StepName;
  /** False when the step does not apply to this probe (DNS when a proxy resolves the name). */
  applies(probe: Probe, env: CheckEnv): boolean;
  /** Does the step; throws an AgentError when it fails. */
  run(probe: Probe, env: CheckEnv): Promise<void>;
}

export interface EndpointResult {
  url: string;
  host: string;
  port: number;
  purpose: string;
  required: boolean;
  extension: string | undefined;
  status: 'passed' | 'failed' | 'skipped';
  reachable: boolean;
  route: RouteShown | undefined;
  proxy: string | undefined;
  dns: Probe['dns'];
  tls: Probe['tls'];
  httpStatus: number | undefined;
  /** The server's Date header and when it came, for the clock-skew check. */
  date: { value: string; at: number } | undefined;
  timingsMs: Partial<Record<StepName, number>>;
  latencyMs: number | undefined;
  failedStep: StepName | undefined;
  cause: Cause | undefined;
  error: { code: string; message: string; action: string } | undefined;
  notes: string[];
}

export async function probeEndpoint(
  endpoint: PlannedEndpoint,
  steps: readonly EndpointStep[],
  env: CheckEnv,
): Promise<EndpointResult> {
  const probe: Probe = {
    endpoint,
    target: { host: endpoint.host, port: endpoint.port },
    route: undefined,
    dialRoute: undefined,
    proxy: undefined,
    dns: undefined,
    resolve: undefined,
    tunnel: undefined,
    tlsSocket: undefined,
    tls: undefined,
    http: undefined,
    problems: [],
    notes: [],
  };
  if (endpoint.skip) return result(probe, 'skipped', {}, undefined, undefined);
  const timings: Partial<Record<StepName, number>> = {};
  let failure: { step: StepName; err: AgentError } | undefined;
  try {
    for (const step of steps) {
      if (!step.applies(probe, env)) continue;
      const started = env.now();
      try {
        await step.run(probe, env);
      } catch (err) {
        failure = { step: step.name, err: asAgentError(err) };
        break;
      } finally {
        timings[step.name] = env.now() - started;
      }
    }
  } finally {
    await closeGently(probe.tlsSocket ?? probe.tunnel?.socket, CLOSE_WAIT_MS);
    probe.tunnel?.socket.destroy();
  }
  const latency = failure ? undefined : Object.values(timings).reduce((a, b) => a + b, 0);
  // A recorded problem comes first: it explains what follows (a public address the firewall blocks).
  const problem = probe.problems[0] ?? failure;
  return result(probe, problem ? 'failed' : 'passed', timings, latency, problem);
}

function result(
  probe: Probe,
  status: EndpointResult['status'],
  timingsMs: EndpointResult['timingsMs'],
  latencyMs: number | undefined,
  failure: { step: StepName; err: AgentError } | undefined,
): EndpointResult {
  const e = probe.endpoint;
  return {
    url: e.url,
    host: e.host,
    port: e.port,
    purpose: e.purpose,
    required: e.required,
    extension: e.extension,
    status,
    reachable: probe.http !== undefined,
    route: probe.route,
    proxy: probe.proxy,
    dns: probe.dns,
    tls: probe.tls,
    httpStatus: probe.http?.status,
    date: probe.http?.date ? { value: probe.http.date, at: midpoint(probe.http) } : undefined,
    timingsMs,
    latencyMs,
    failedStep: failure?.step,
    cause: failure ? causeOf(failure.step, failure.err.code) : undefined,
    error: failure?.err.toJSON(),
    notes: e.skip ? [e.skip, ...probe.notes] : probe.notes,
  };
}

/** How long a probe waits for the peer to close after our close (a FIN, or TLS close_notify first). */
const CLOSE_WAIT_MS = 1_000;

/**
 * Half-closes and reads what is left until the peer closes too, then destroys. Destroying a socket
 * with unread bytes (a TLS session ticket, the rest of a body) sends a TCP reset, which some proxies
 * and firewalls on the way take badly; a check must leave the network as it found it.
 */
function closeGently(socket: Duplex | undefined, waitMs: number): Promise<void> {
  if (!socket || socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, waitMs);
    socket.once('close', done);
    socket.on('error', done);
    socket.resume();
    socket.end();
  });
}

/** The server wrote its Date between our request and its answer; the middle is the best guess. */
const midpoint = (h: { sentAt: number; receivedAt: number }) => (h.sentAt + h.receivedAt) / 2;

function asAgentError(err: unknown): AgentError {
  if (err instanceof AgentError) return err;
  return new AgentError('INTERNAL', String((err as Error)?.message ?? err), { cause: err });
}
