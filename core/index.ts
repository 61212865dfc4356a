// What everything shares, and nothing more. Other folders import from here only.
export * from './errors.ts';
export * from './logger.ts';
export * from './home.ts';
export * from './atomic-file.ts';
export * from './config.ts';
export * from './config-lock.ts';
export * from './clouds.ts';
export * from './http-client.ts';
export * from './agent-state.ts';
export * from './version.ts';
export * from './log-file.ts';
export * from './service-env.ts';
export * from './zip.ts';
export * from './redact-document.ts';
export * from './flags-file.ts';
export * from './command-log.ts';
