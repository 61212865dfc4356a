// The local cloud: a control plane on one machine (cloud/README.md). Other folders and tests
// import from here only; the agent never imports it (it talks to the cloud over the network).
export { buildApp, type BuildAppOptions, type CloudApp } from './app.ts';
export { checkApiVersion, MACHINE_API_VERSIONS } from './api-version.ts';
export { CloudError, type CloudErrorCode } from './errors.ts';
export { machineStatus, renewAfter, type MachineStatus, type ConnectionFacts } from './status.ts';
export {
  DEFAULT_GATEWAY_PORT,
  DEFAULT_PORT,
  LOCAL_REGIONS,
  resolveSettings,
  type CloudSettings,
  type LocalCloudOptions,
} from './options.ts';
export { ARM_ENDPOINT, LOCAL_HOSTS, LOGIN_ENDPOINT, localProfile } from './profile.ts';
export { openCloudStore, type CloudStore } from './store.ts';
export { startLocalCloud, type LocalCloud, type LocalCloudFiles, type LocalGateway } from './server.ts';
export { compileTargets, parseAuthority, type Target, type TargetSet } from './gateway-target.ts';
export {
  advertisedEndpoints,
  gatewayPatterns,
  LOCAL_ONBOARDING_ENDPOINTS,
  PUBLIC_GATEWAY_ENDPOINTS,
} from './gateway-endpoints.ts';
export { decideTunnel, type PeerIdentity, type TunnelDecision } from './gateway-decision.ts';
export { createGatewayServer, GATEWAY_ERROR_HEADER, type GatewayServer } from './gateway-server.ts';
export { DEFAULT_GATEWAY_NAME } from './gateway-resource.ts';
export { GatewayError, type GatewayErrorCode } from './errors.ts';
