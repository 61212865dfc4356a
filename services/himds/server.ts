// HIMDS, the endpoint: instance metadata and managed-identity tokens on 127.0.0.1:40342 (fastify),
// and the daemon that runs it with the heartbeat. Import it on demand (`await import(...)`).
export {
  startHimds,
  isLoopbackAddress,
  DEFAULT_HIMDS_PORT,
  type HimdsService,
  type HimdsServiceOptions,
} from './himds-service.ts';
export { buildHimdsApp, TOKEN_PATH, DEFAULT_ARC_PROXY_URL, type HimdsAppOptions } from './himds-app.ts';
export {
  cloudTokenSource,
  fromMachineToken,
  type TokenSource,
  type TokenRequest,
  type UpstreamToken,
  type CloudTokenSourceOptions,
} from './token-source.ts';
export { startHimdsDaemon, type HimdsDaemon, type HimdsDaemonOptions } from './daemon.ts';
export * from './index.ts';
