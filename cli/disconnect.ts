// `azcmagent disconnect [--force-local-only]`: deletes the machine resource in Azure (unless -f),
// then the local identity and connection state, and cloudconfig.json (no machine, no gateway; the
// association in ARM goes with the machine resource). A failed delete keeps everything local and
// says how to clean up this machine alone.
import type { Command } from 'commander';
import { rm } from 'node:fs/promises';
import { AgentError, readAgentState, resolveHome } from '../core/index.ts';
import {
  armTokenFromSecret,
  deleteMachine,
  removeCloudConfig,
  removeMachineIdentity,
} from '../services/himds/index.ts';
import { openCloudSession } from './cloud-session.ts';
import { fail, printJson, type GlobalOptions } from './output.ts';

interface DisconnectOptions extends GlobalOptions {
  forceLocalOnly?: boolean;
  tenantId?: string;
  servicePrincipalId?: string;
  servicePrincipalSecret?: string;
  accessToken?: string;
}

export function registerDisconnect(program: Command): void {
  program
    .command('disconnect')
    .description("delete the machine resource in Azure and this machine's identity")
    .option('-f, --force-local-only', 'clean up this machine only; leave the resource in Azure')
    .option('-t, --tenant-id <id>', 'tenant of the subscription (default: the connected tenant)')
    .option('-i, --service-principal-id <id>', 'service principal (application) id')
    .option('-p, --service-principal-secret <secret>', 'service principal secret (prefer a --config file)')
    .option('--access-token <token>', 'an Entra access token for ARM, instead of a service principal')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<DisconnectOptions>();
      try {
        await disconnect(opts);
      } catch (err) {
        fail(err, opts.json);
      }
    });
}

async function disconnect(opts: DisconnectOptions): Promise<void> {
  const home = resolveHome(opts.home, process.env);
  const state = await readAgentState(home.agentConfig);
  if (!state && !opts.forceLocalOnly) throw new AgentError('AGENT_NOT_CONNECTED', home.agentConfig);
  if (state && !opts.forceLocalOnly) {
    if (!opts.accessToken && !(opts.servicePrincipalId && opts.servicePrincipalSecret)) {
      throw new AgentError(
        'MISSING_PARAMETER',
        '--service-principal-id with --service-principal-secret, or --access-token',
        {
          action:
            'give credentials that may delete the resource, or clean up this machine only: azcmagent disconnect --force-local-only',
        },
      );
    }
    const session = await openCloudSession(home, state.cloud);
    try {
      const token =
        opts.accessToken ??
        (await armTokenFromSecret({
          ...session,
          tenantId: opts.tenantId ?? state.tenantId,
          clientId: opts.servicePrincipalId!,
          clientSecret: opts.servicePrincipalSecret!,
        }));
      await deleteMachine({ ...session, token, id: state.resourceId }).catch((err: unknown) => {
        const reason = err instanceof AgentError ? err.message : String(err);
        throw new AgentError('RESOURCE_DELETE_FAILED', reason);
      });
    } finally {
      await session.close();
    }
  }
  await removeMachineIdentity(home);
  await rm(home.agentConfig, { force: true });
  // After agentconfig.json: a heartbeat in flight then finds no machine and writes nothing back.
  await removeCloudConfig(home);
  if (opts.json)
    printJson({
      status: 'Disconnected',
      resourceId: state?.resourceId,
      deletedInAzure: !opts.forceLocalOnly,
    });
  else {
    const where = opts.forceLocalOnly
      ? 'locally (the resource in Azure was left as it is)'
      : 'and deleted the machine resource in Azure';
    process.stdout.write(`INFO Disconnected this machine ${where}\n`);
  }
}
