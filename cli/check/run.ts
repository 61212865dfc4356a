// runNetworkChecks: every planned endpoint probed concurrently through the steps of the registry,
// with the inputs the Arc Proxy builds its routes from (localconfig.json, cloudconfig.json, the cloud
// profile, HTTPS_PROXY), then the checks over the whole run. `azcmagent check` and connect's
// pre-check both call it.
import { readFile } from 'node:fs/promises';
import { certStore } from '../../certs/index.ts';
import {
  createLogger,
  readCloudConfig,
  readLocalConfig,
  type CloudConfig,
  type CloudProfile,
  type HomeLayout,
  type LocalConfig,
} from '../../core/index.ts';
import {
  DEFAULT_PROXY_PORT,
  buildPolicy,
  createGatewayTlsCache,
  environmentProxy,
  type ClientIdentity,
  type DialOptions,
  type RoutePolicy,
} from '../../proxy/index.ts';
import { planEndpoints } from './endpoints.ts';
import { type CheckEnv, type EndpointResult, probeEndpoint } from './probe.ts';
import type { RunCheckOutcome } from './run-check.ts';
import { proxyShown } from './route-step.ts';
import { ENDPOINT_STEPS, RUN_CHECKS } from './steps.ts';

export interface NetworkCheckOptions {
  home: HomeLayout;
  cloud: CloudProfile;
  /** Region name; regional endpoints are skipped (with a note) without one. */
  region: string | undefined;
  /** `--extensions`: `all`, or extension names (`sql`, `ama`). */
  extensions?: readonly string[];
  /** `--enable-pls-check`. */
  plsCheck?: boolean;
  /** Reach endpoints through this running Arc Proxy rather than route them here (connect's pre-check). */
  arcProxyUrl?: string | undefined;
  /** Only the endpoints `connect` calls. */
  onboardingOnly?: boolean;
  /** Where HTTPS_PROXY is read, as the Arc Proxy reads its own. */
  env?: NodeJS.ProcessEnv;
  /** Called as each endpoint finishes. */
  onProgress?: (done: number, total: number, result: EndpointResult) => void;
  timeouts?: Partial<CheckEnv['timeouts']>;
  lookup?: CheckEnv['lookup'];
  now?: () => number;
}

/** The connection type in effect, as the Arc Proxy's policy has it. */
export interface ConnectionInfo {
  /** `connection.type` as configured: default, direct or gateway. */
  setting: 'default' | 'direct' | 'gateway';
  /** What is in effect: the gateway when one is in use, else direct (straight or through proxy.url). */
  effective: 'direct' | 'gateway';
  gatewayUrl: string | undefined;
  /** proxy.bypass has entries, and the gateway is in use, which ignores them. */
  proxyBypassIgnored: boolean;
}

export interface CheckReport {
  cloud: string;
  location: string | undefined;
  connection: ConnectionInfo;
  /** The enterprise proxy in effect, redacted. */
  proxy: string | undefined;
  allowListMode: RoutePolicy['mode'];
  endpoints: EndpointResult[];
  checks: RunCheckOutcome[];
  /**
   * What the Arc Proxy's policy says about the configuration, in its words: entries it ignores, the
   * gateway fallback, proxy.bypass ignored in gateway mode.
   */
  notes: string[];
  /** No required endpoint failed. */
  passed: boolean;
}

export const DEFAULT_TIMEOUTS: CheckEnv['timeouts'] = { connectMs: 10_000, tlsMs: 10_000, httpMs: 15_000 };

export async function runNetworkChecks(opts: NetworkCheckOptions): Promise<CheckReport> {
  const { cloud } = opts;
  const inputs = await readInputs(opts);
  const { policy, problems } = buildPolicy({
    config: inputs.config,
    cloud,
    cloudConfig: inputs.cloudConfig,
    envProxy: environmentProxy(
      opts.env ?? {},
      DEFAULT_PROXY_PORT,
      createLogger({ name: 'check', level: 'silent' }),
    ),
  });
  const connection = connectionOf(inputs.config, inputs.cloudConfig, policy);
  const env = checkEnv(opts, policy, inputs);
  const planned = planEndpoints(cloud, {
    region: opts.region,
    extensions: opts.extensions ?? [],
    gatewayUrl: opts.arcProxyUrl ? undefined : connection.gatewayUrl,
    onboardingOnly: opts.onboardingOnly === true,
  });
  let done = 0;
  const endpoints = await Promise.all(
    planned.map(async (endpoint) => {
      const result = await probeEndpoint(endpoint, ENDPOINT_STEPS, env);
      opts.onProgress?.(++done, planned.length, result);
      return result;
    }),
  );
  return {
    cloud: cloud.name,
    location: opts.region,
    connection,
    proxy: policy.upstream ? proxyShown(policy.upstream) : undefined,
    allowListMode: policy.mode,
    endpoints,
    checks: RUN_CHECKS.map((c) => c.evaluate({ results: endpoints })),
    notes: problems,
    passed: endpoints.every((e) => !e.required || e.status !== 'failed'),
  };
}

interface Inputs {
  config: LocalConfig;
  cloudConfig: CloudConfig;
  /** The cloud's CA bundle (PEM), when the profile names one. */
  ca: string | undefined;
  identity: ClientIdentity | undefined;
}

/** What the Arc Proxy reads at its start, read the same way. */
async function readInputs({ home, cloud }: NetworkCheckOptions): Promise<Inputs> {
  const [config, cloudConfig, ca, stored] = await Promise.all([
    readLocalConfig(home.localConfig),
    readCloudConfig(home.cloudConfig),
    cloud.caFile ? readFile(cloud.caFile, 'utf8') : Promise.resolve(undefined),
    // The gateway wants the machine certificate; a user who may not read it checks without one.
    certStore(home)
      .loadMachineIdentity()
      .catch(() => undefined),
  ]);
  const identity = stored && {
    certPem: stored.certPem,
    keyPem: stored.keyPem,
    thumbprint: stored.thumbprint,
  };
  return { config, cloudConfig, ca, identity };
}

function checkEnv(opts: NetworkCheckOptions, policy: RoutePolicy, inputs: Inputs): CheckEnv {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const dialOptions: DialOptions = {
    connectTimeoutMs: timeouts.connectMs,
    resolve: opts.cloud.resolve,
    upstreamCa: undefined,
    gatewayCa: inputs.ca,
    identity: () => inputs.identity,
    gatewayTls: createGatewayTlsCache(),
  };
  return {
    cloud: opts.cloud,
    policy,
    dialOptions,
    ca: inputs.ca,
    plsCheck: opts.plsCheck === true,
    arcProxyUrl: opts.arcProxyUrl,
    timeouts,
    // node:dns/promises on the first lookup, not at load: every azcmagent process holds this module.
    lookup: opts.lookup ?? (async (host) => (await import('node:dns/promises')).lookup(host, { all: true })),
    now: opts.now ?? Date.now,
  };
}

function connectionOf(config: LocalConfig, cloudConfig: CloudConfig, policy: RoutePolicy): ConnectionInfo {
  const gateway = policy.gateway?.gateway;
  return {
    setting: config['connection.type'],
    effective: gateway ? 'gateway' : 'direct',
    gatewayUrl: gateway ? (cloudConfig.gateway?.url ?? gateway.url) : undefined,
    proxyBypassIgnored: gateway !== undefined && config['proxy.bypass'].length > 0,
  };
}
