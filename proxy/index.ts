// The Arc Proxy: the only import point for other folders.
export {
  createArcProxy,
  DEFAULT_LIMITS,
  type ArcProxy,
  type ArcProxyOptions,
  type ProxyLimits,
} from './server.ts';
export {
  startArcProxyService,
  adminSocket,
  meterFile,
  DEFAULT_PROXY_PORT,
  type ArcProxyService,
} from './service.ts';
export {
  decideRoute,
  buildPolicy,
  gatewayInEffect,
  parseUpstreamProxy,
  type Decision,
  type GatewayPolicy,
  type PolicyInputs,
  type Route,
  type RoutePolicy,
} from './route.ts';
export { compileAllowList, parseEndpointPattern, HostPatternSet } from './allow-list.ts';
export {
  Meter,
  readMeterFile,
  deniedDestinations,
  toPrometheus,
  TRAFFIC_CHANNEL,
  type MeterSnapshot,
  type MeterEntry,
  type TrafficEvent,
} from './meter.ts';
export { parseAuthority, formatTarget, type Target } from './target.ts';
export { dial, type DialOptions, type DialResult } from './dial.ts';
export { ERROR_HEADER } from './reply.ts';
// For `azcmagent check`, which probes each endpoint the way the proxy would reach it.
export { environmentProxy } from './service.ts';
export {
  createGatewayTlsCache,
  dialError,
  resolveTarget,
  type ClientIdentity,
} from '../gateway-client/index.ts';
export type { UpstreamProxy } from './route.ts';
export { tunnelThroughArcProxy } from './arc-proxy-client.ts';
