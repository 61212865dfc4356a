// `azcmagent check`: the only import point of cli/check/ (a registry of checks, one file each).
export { registerCheck } from './command.ts';
export { runNetworkChecks, DEFAULT_TIMEOUTS, type CheckReport, type NetworkCheckOptions } from './run.ts';
export { precheckNetwork, type PrecheckOptions } from './precheck.ts';
export { reportJson } from './report.ts';
export { planEndpoints, type PlannedEndpoint, type PlanOptions } from './endpoints.ts';
export type { EndpointResult } from './probe.ts';
export type { Cause } from './causes.ts';
