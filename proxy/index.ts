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
  parseUpstreamProxy,
  type Decision,
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
export { ERROR_HEADER } from './reply.ts';
