// The heartbeat: every interval (5 minutes by default) the agent tells the identity service it is
// alive, over mutual TLS through the Arc Proxy, and records the answer in agentconfig.json (what
// `show` prints). Failures back off exponentially with jitter, capped at the interval, so a cloud
// that is down sees a trickle, not a storm. The certificate is renewed when the cloud says so.
// The answer's `gateway` (the machine's Arc gateway association now) is written to cloudconfig.json
// when it differs, which the Arc Proxy watches: an association made or removed through ARM takes
// effect at the next heartbeat (gateway-pickup.ts decides).
import type { Dispatcher } from 'undici';
import {
  AgentError,
  readAgentState,
  readCloudConfig,
  writeAgentState,
  type AgentState,
  type CloudConfig,
  type CloudProfile,
  type GatewayConfig,
  type HomeLayout,
  type Logger,
} from '../../core/index.ts';
import { machineConnections } from './machine-connection.ts';
import { renewIdentity, sendHeartbeat, type HeartbeatAnswer } from './cloud-api.ts';
import { changeCloudConfig } from './cloud-config-store.ts';
import {
  decideGatewayPickup,
  decideGatewayRefused,
  decideGatewayRetry,
  type CloudConfigChange,
} from './gateway-pickup.ts';
import { askProxyRefusal, type ProxyRefusal } from './proxy-refusal.ts';

export const HEARTBEAT_INTERVAL_MS = 5 * 60_000;
const FIRST_RETRY_MS = 15_000;
const MAX_SKEW_MS = 120_000;

export interface MachineIdentity {
  keyPem: string;
  certPem: string;
  /** The cloud's CA the certificate chains to. */
  caPem: string;
  /** When the cloud wants the certificate renewed (ISO-8601). */
  renewAfter?: string | undefined;
  notAfter?: string | undefined;
}

export interface IdentityStore {
  load(): Promise<MachineIdentity | undefined>;
  save(identity: MachineIdentity): Promise<void>;
}

export interface HeartbeatOptions {
  home: HomeLayout;
  log: Logger;
  /** The Arc Proxy, e.g. http://127.0.0.1:40343. */
  proxyUrl: string;
  agentVersion: string;
  identity: IdentityStore;
  /** A fresh key pair for renewal (PEM). */
  newKeyPair: () => Promise<{ privateKeyPem: string; publicKeyPem: string }>;
  metadata: () => Promise<unknown>;
  fingerprint: () => Promise<string>;
  intervalMs?: number;
  now?: () => Date;
  random?: () => number;
  /** Waits `ms`, or less when `signal` aborts; tests pass a simulated clock. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Why the Arc Proxy refuses a tunnel to `target` (host:port); tests may replace the real question. */
  askRefusal?: (target: string) => Promise<ProxyRefusal | undefined>;
}

/** The Arc Proxy's code for a gateway that refuses this machine's certificate (gateway-client/). */
const GATEWAY_REFUSED = 'GATEWAY_CLIENT_CERT_REFUSED';

/** Delay before retry number `failures` (1, 2, ...): exponential from 15 s, capped at the interval, half of it jittered. */
export function backoffDelay(failures: number, intervalMs: number, random: () => number): number {
  const ceiling = Math.min(intervalMs, FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

const realSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

export interface Heartbeat {
  /** Beats now instead of waiting (after connect, or when agentconfig.json changes). */
  poke(): void;
  stop(): Promise<void>;
  /** Attempts made so far (for tests and stats). */
  readonly attempts: number;
}

export function startHeartbeat(opts: HeartbeatOptions): Heartbeat {
  const interval = opts.intervalMs ?? HEARTBEAT_INTERVAL_MS;
  const now = opts.now ?? (() => new Date());
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? realSleep;
  const { log } = opts;
  let stopped = false;
  let wake = new AbortController();
  let failures = 0;
  let attempts = 0;
  const connections = machineConnections({ proxyUrl: opts.proxyUrl, clientId: 'himds' });
  const askRefusal = opts.askRefusal ?? ((target: string) => askProxyRefusal(opts.proxyUrl, 'himds', target));
  /** A gateway we went without because it refused us; tried again if the cloud stays out of reach. */
  let dropped: GatewayConfig | undefined;
  /** The interval in force: ours, or the one the cloud last asked for. */
  let regular = interval;

  /** One beat; resolves with how long to wait before the next. */
  const beat = async (): Promise<number> => {
    const state = await readAgentState(opts.home.agentConfig);
    const identity = state && (await opts.identity.load());
    if (!state || !identity) return interval;
    attempts++;
    const { dispatcher, cloud } = await connections.get(state, identity);
    const sentAt = now();
    let answer: HeartbeatAnswer;
    try {
      answer = await sendHeartbeat({
        dispatcher,
        cloud,
        fingerprint: await opts.fingerprint(),
        agentVersion: opts.agentVersion,
        metadata: await opts.metadata(),
        now: sentAt,
      });
    } catch (err) {
      failures++;
      const e = err instanceof AgentError ? err : new AgentError('CLOUD_REQUEST_FAILED', String(err));
      const delay = backoffDelay(failures, interval, random);
      log.warn({ code: e.code, failures, retryInMs: delay }, e.message);
      await record(state, {
        errorCode: e.code,
        errorDetails: `${e.message}. ${e.action}`,
        errorTimestamp: sentAt.toISOString(),
        ...(e.code === 'IDENTITY_EXPIRED' ? { status: 'Expired' as const } : {}),
      });
      // A new route is a new situation: try it at the regular interval, not after the backoff.
      return (await afterFailure(state, cloud, sentAt)) ? Math.min(delay, regular) : delay;
    }
    failures = 0;
    dropped = undefined;
    const skew = answer.serverTime ? Math.abs(Date.parse(answer.serverTime) - sentAt.getTime()) : 0;
    if (skew > MAX_SKEW_MS)
      log.warn(
        { skewSeconds: Math.round(skew / 1000) },
        'the clock differs from the cloud by more than 120 s; fix time sync (NTP)',
      );
    await record(state, {
      status: answer.status,
      lastHeartbeat: sentAt.toISOString(),
      errorCode: undefined,
      errorDetails: undefined,
      errorTimestamp: undefined,
      // `show` prints the association the cloud reports; a cloud without gateways says nothing.
      ...(answer.gateway === null
        ? { gatewayUrl: undefined }
        : typeof answer.gateway?.url === 'string'
          ? { gatewayUrl: answer.gateway.url }
          : {}),
    });
    await applyGatewayChange(state, (current) => decideGatewayPickup(current, answer.gateway, sentAt));
    const renewAfter = answer.certificateRenewAfter ?? identity.renewAfter;
    if (renewAfter && Date.parse(renewAfter) <= sentAt.getTime())
      await renew(state, identity, dispatcher, cloud);
    regular =
      (answer.heartbeatIntervalSeconds ?? 0) > 0 && !opts.intervalMs
        ? answer.heartbeatIntervalSeconds! * 1000
        : interval;
    return regular;
  };

  const renew = async (
    state: AgentState,
    identity: MachineIdentity,
    dispatcher: Dispatcher,
    cloud: CloudProfile,
  ) => {
    try {
      const keys = await opts.newKeyPair();
      const issued = await renewIdentity({ dispatcher, cloud, publicKey: keys.publicKeyPem });
      await opts.identity.save({
        keyPem: keys.privateKeyPem,
        certPem: issued.certificate,
        caPem: issued.caCertificate,
        renewAfter: issued.renewAfter,
        notAfter: issued.notAfter,
      });
      await record(state, { certificateNotAfter: issued.notAfter });
      log.info({ notAfter: issued.notAfter }, 'machine certificate renewed');
    } catch (err) {
      log.warn({ err }, 'machine certificate renewal failed; will retry at the next heartbeat');
    }
  };

  /**
   * A failed heartbeat through a gateway: if the gateway refused this machine (association removed),
   * go without it so the next heartbeat hears the cloud; if we already did and still fail, try the
   * gateway again. Any other failure leaves cloudconfig.json alone. True when the route changed.
   * (The local cloud's gateway serves the identity service to any machine, so this is for gateways
   * that do not; the preview's fix for a detached gateway was deleting cloudconfig.json by hand,
   * reference 6.2.)
   */
  const afterFailure = async (state: AgentState, cloud: CloudProfile, at: Date): Promise<boolean> => {
    if (dropped) {
      const back = dropped;
      dropped = undefined;
      const change = await applyGatewayChange(state, (current) => decideGatewayRetry(current, back, at));
      return change?.write === true;
    }
    const current = await readCloudConfig(opts.home.cloudConfig).catch(() => undefined);
    if (!current?.gateway) return false;
    const his = new URL(cloud.endpoints.hisGlobal);
    const target = `${his.hostname}:${his.port || 443}`;
    const refusal = await askRefusal(target).catch(() => undefined);
    if (refusal?.code !== GATEWAY_REFUSED) return false;
    const change = await applyGatewayChange(state, (cfg) => decideGatewayRefused(cfg, refusal.message, at));
    if (change?.write) dropped = current.gateway;
    return change?.write === true;
  };

  /** Carries out a cloudconfig.json decision for this machine, with its log line; never throws. */
  const applyGatewayChange = async (
    state: AgentState,
    decide: (current: CloudConfig | undefined) => CloudConfigChange,
  ): Promise<CloudConfigChange | undefined> => {
    try {
      const change = await changeCloudConfig(opts.home, state.resourceId, decide);
      if (change.write) {
        log.info({ gatewayId: change.next.gateway?.id ?? null }, change.message);
        await record(state, { gatewayUrl: change.next.gateway?.url });
      } else if (change.problem) log.warn(change.problem);
      return change;
    } catch (err) {
      log.warn({ err }, 'cloudconfig.json not updated; will retry at the next heartbeat');
      return undefined;
    }
  };

  /** Updates agentconfig.json unless the machine was disconnected (or reconnected elsewhere) meanwhile. */
  const record = async (was: AgentState, changes: Partial<AgentState>) => {
    const current = await readAgentState(opts.home.agentConfig);
    if (!current || current.resourceId !== was.resourceId) return;
    const next: Record<string, unknown> = { ...current, ...changes };
    for (const [k, v] of Object.entries(next)) if (v === undefined) delete next[k];
    await writeAgentState(opts.home.agentConfig, next as AgentState);
  };

  const run = async () => {
    while (!stopped) {
      let delay: number;
      try {
        delay = await beat();
      } catch (err) {
        log.error({ err }, 'heartbeat failed unexpectedly');
        delay = interval;
      }
      if (stopped) break;
      await sleep(delay, wake.signal);
      wake = new AbortController();
    }
  };
  const done = run();

  return {
    get attempts() {
      return attempts;
    },
    poke() {
      wake.abort();
    },
    async stop() {
      stopped = true;
      wake.abort();
      await done;
      await connections.close();
    },
  };
}
