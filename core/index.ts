// What everything shares, and nothing more. Other folders import from here only.
export * from './errors.ts';
export * from './logger.ts';
export * from './home.ts';
export * from './atomic-file.ts';
export * from './config.ts';
export * from './clouds.ts';
export * from './http-client.ts';
export * from './agent-state.ts';
