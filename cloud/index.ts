// The local cloud: a control plane on one machine (cloud/README.md). Other folders and tests
// import from here only; the agent never imports it (it talks to the cloud over the network).
export { buildApp, type BuildAppOptions, type CloudApp } from './app.ts';
export { checkApiVersion, MACHINE_API_VERSIONS } from './api-version.ts';
export { CloudError, type CloudErrorCode } from './errors.ts';
export { machineStatus, renewAfter, type MachineStatus, type ConnectionFacts } from './status.ts';
export {
  DEFAULT_PORT,
  LOCAL_REGIONS,
  resolveSettings,
  type CloudSettings,
  type LocalCloudOptions,
} from './options.ts';
export { ARM_ENDPOINT, LOCAL_HOSTS, LOGIN_ENDPOINT, localProfile } from './profile.ts';
export { openCloudStore, type CloudStore } from './store.ts';
export { startLocalCloud, type LocalCloud, type LocalCloudFiles } from './server.ts';
