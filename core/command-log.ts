// The CLI's own log, <home>/log/azcmagent.log, as the real agent keeps one: what a command did, for
// `azcmagent logs` to collect later. With -v/--verbose the same lines, down to debug, also go to
// stderr. Lines pass through createLogger, so they are scrubbed like every other log line.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type StreamEntry } from 'pino';
import { openLogFile, type LogFile } from './log-file.ts';
import { createLogger, type Logger } from './logger.ts';

export const COMMAND_LOG_NAME = 'azcmagent.log';

export interface CommandLogOptions {
  /** <home>/log. */
  logDir: string;
  verbose?: boolean;
  /** Where verbose lines go; stderr when absent. */
  stderr?: pino.DestinationStream;
}

export interface CommandLog {
  log: Logger;
  close: () => Promise<void>;
}

/**
 * The command's logger. A log folder that is missing (the agent never ran with this home) or cannot
 * be written (a user without rights on the default home) costs the file, not the command: the line
 * saying so goes to stderr with -v.
 */
export function openCommandLog({ logDir, verbose = false, stderr }: CommandLogOptions): CommandLog {
  const streams: StreamEntry[] = [];
  let file: LogFile | undefined;
  let problem: string | undefined;
  try {
    // The CLI does not create the home folder; the services and connect do.
    if (!existsSync(logDir)) throw Object.assign(new Error('no log folder'), { code: 'ENOENT' });
    file = openLogFile({ path: join(logDir, COMMAND_LOG_NAME), maxBytes: 5 * 1024 * 1024, maxFiles: 2 });
    streams.push({ level: 'info', stream: file });
  } catch (err) {
    problem = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
  if (verbose) streams.push({ level: 'debug', stream: stderr ?? pino.destination({ fd: 2, sync: true }) });
  const log = createLogger({
    name: 'azcmagent',
    level: streams.length === 0 ? 'silent' : verbose ? 'debug' : 'info',
    destination: pino.multistream(streams),
  });
  if (problem)
    log.debug({ logDir, problem }, `${COMMAND_LOG_NAME} cannot be written; logging to stderr only`);
  return {
    log,
    close: async () => {
      await file?.close();
    },
  };
}
