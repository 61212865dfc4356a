// Runs the built bin (dist/arc-local-cloud.js, made by the global setup) as users do.
import { resolve } from 'node:path';
import { startReadyProcess, type Daemon } from '../helpers/cli.ts';

export const CLOUD_BIN = resolve(import.meta.dirname, '../../dist/arc-local-cloud.js');

export type CloudProcess = Daemon;

/** Starts arc-local-cloud and resolves once its readiness line names the port. */
export const startCloudProcess = (args: string[]): Promise<CloudProcess> =>
  startReadyProcess(
    [process.execPath, [CLOUD_BIN, ...args]],
    /arc-local-cloud: ready on https:\/\/127\.0\.0\.1:(\d+) /,
    { timeoutMs: 20_000 },
  );
