// connect's network pre-check: the same probes as `azcmagent check`, each through the running Arc
// Proxy that will carry connect's calls, over the endpoints connect calls in the cloud and region
// (a machine without an identity gets nothing else through an Arc gateway).
import { AgentError, type CloudProfile, type HomeLayout } from '../../core/index.ts';
import { runNetworkChecks } from './run.ts';

export interface PrecheckOptions {
  home: HomeLayout;
  cloud: CloudProfile;
  region: string;
  /** The running Arc Proxy, e.g. http://127.0.0.1:40343. */
  arcProxyUrl: string;
  /** --ignore-network-check: name the failures on stderr and go on. */
  ignore: boolean;
}

/** Throws NETWORK_CHECK_FAILED (26) naming each failed endpoint, its cause and its fix. */
export async function precheckNetwork(o: PrecheckOptions): Promise<void> {
  const report = await runNetworkChecks({
    home: o.home,
    cloud: o.cloud,
    region: o.region,
    arcProxyUrl: o.arcProxyUrl,
    onboardingOnly: true,
  });
  const failures = report.endpoints
    .filter((e) => e.required && e.status === 'failed' && e.error)
    .map((e) => `${e.host}: ${e.cause} (${e.error!.message}); to fix: ${e.error!.action}`);
  if (failures.length === 0) return;
  if (o.ignore) {
    process.stderr.write(
      `azcmagent: network check failed, continuing (--ignore-network-check):\n  ${failures.join('\n  ')}\n`,
    );
    return;
  }
  throw new AgentError('NETWORK_CHECK_FAILED', failures.join('; '), {
    action: 'fix the causes named above; azcmagent check shows every endpoint',
  });
}
