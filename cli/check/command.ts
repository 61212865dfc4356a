// `azcmagent check [--cloud C --location L] [--extensions all] [--enable-pls-check]`: probes every
// endpoint the cloud and region need, through the route the agent really uses, and says for each
// failure why and what to do (reference section 2.4). Exit 26 when a required endpoint fails.
import type { Command } from 'commander';
import {
  AgentError,
  loadCloudProfile,
  readAgentState,
  redactSecrets,
  resolveHome,
  type HomeLayout,
} from '../../core/index.ts';
import { fail, printJson, type GlobalOptions } from '../output.ts';
import { terminalProgress } from './progress.ts';
import { printReport, reportJson } from './report.ts';
import { runNetworkChecks } from './run.ts';

interface CheckOptions extends GlobalOptions {
  cloud?: string;
  location?: string;
  extensions?: string;
  enablePlsCheck?: boolean;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'probe every endpoint the cloud and region need (DNS, TCP, TLS, HTTP) through the route the agent uses',
    )
    .option(
      '--cloud <cloud>',
      'AzureCloud, AzureUSGovernment, AzureChinaCloud, or a cloud profile file; needs --location (default: the connected cloud, else AzureCloud)',
    )
    .option('-l, --location <region>', 'region, e.g. eastus (default: the connected region)')
    .option(
      '-e, --extensions <list>',
      'also probe the endpoints of extensions: all, or names such as sql,ama (their failures only warn)',
    )
    .option('-p, --enable-pls-check', 'private-link endpoints must resolve to private addresses')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<CheckOptions>();
      try {
        await check(opts);
      } catch (err) {
        fail(err, opts.json);
      }
    });
}

async function check(opts: CheckOptions): Promise<void> {
  const home = resolveHome(opts.home, process.env);
  const { cloudName, region } = await cloudAndRegion(opts, home);
  const cloud = await loadCloudProfile(cloudName);
  if (region && cloud.regions && !cloud.regions.includes(region))
    throw new AgentError('UNKNOWN_REGION', `${region} is not a region of ${cloud.name}`);
  const progress = terminalProgress();
  progress.start();
  const report = await runNetworkChecks({
    home,
    cloud,
    region,
    extensions: (opts.extensions ?? '')
      .split(',')
      .map((x) => x.trim().toLowerCase())
      .filter(Boolean),
    plsCheck: opts.enablePlsCheck === true,
    env: process.env,
    onProgress: progress.update,
  }).finally(progress.finish);
  if (opts.json) printJson(reportJson(report));
  else printReport(report);
  if (report.passed) return;
  const failed = report.endpoints.filter((e) => e.required && e.status === 'failed').map((e) => e.host);
  const err = new AgentError('NETWORK_CHECK_FAILED', failed.join(', '), {
    action: 'see the fix under each failed endpoint above',
  });
  if (!opts.json)
    process.stderr.write(`Error ${err.code}: ${redactSecrets(err.message)}\n  To fix: ${err.action}\n`);
  process.exitCode = err.exitCode;
}

/**
 * `--cloud` goes with `--location` (as in the real agent); without `--cloud`, the connected cloud and
 * region, else AzureCloud and `--location` if given (regional endpoints are skipped without one).
 */
async function cloudAndRegion(
  opts: CheckOptions,
  home: HomeLayout,
): Promise<{ cloudName: string; region: string | undefined }> {
  const region = opts.location?.toLowerCase().replace(/\s+/g, '');
  if (opts.cloud) {
    if (!region)
      throw new AgentError('MISSING_PARAMETER', '--location (it goes with --cloud)', {
        action: 'give the region too, e.g. azcmagent check --cloud AzureCloud --location eastus',
      });
    return { cloudName: opts.cloud, region };
  }
  const state = await readAgentState(home.agentConfig);
  return { cloudName: state?.cloud ?? 'AzureCloud', region: region ?? state?.location };
}
