// HIMDS, light part: the machine's identity and its conversation with the cloud (heartbeat,
// renewal, tokens). The endpoint on 127.0.0.1:40342 (fastify) is imported from ./server.ts, on
// demand, so that commands and the Arc Proxy alone do not load it.
export * from './cloud-api.ts';
export * from './heartbeat.ts';
export * from './identity.ts';
export * from './metadata.ts';
export * from './gateway-pickup.ts';
export * from './gateway-onboarding.ts';
export * from './gateway-association.ts';
export * from './cloud-config-store.ts';
export * from './proxy-refusal.ts';
export { cacheDecision, REFRESH_MARGIN_SECONDS, type CacheDecision } from './token-cache.ts';
export { checkApiVersion, SUPPORTED_API_VERSIONS } from './api-version.ts';
export { DEFAULT_CHALLENGE_TTL_MS, realmHeader, basicCredentials } from './challenge.ts';
export { HIMDS_GROUP, groupIdFrom, lookupGroupId } from './tokens-dir.ts';
export {
  buildCompute,
  buildInstance,
  azEnvironmentOf,
  type Compute,
  type Instance,
} from './instance-metadata.ts';
export { machineStatus, type MachineStatus } from './machine-state.ts';
export { createInstanceSource, type InstanceSource } from './instance-source.ts';
