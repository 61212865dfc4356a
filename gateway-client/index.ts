// The hop from the Arc Proxy to an Arc gateway, and the hops it shares with the proxy (the enterprise
// proxy's CONNECT, the resolve map, socket errors as codes): the only import point for other folders.
export { openGatewayTunnel, type GatewayTunnelOptions } from './open-tunnel.ts';
export { parseGateway, gatewayAuthority, gatewayDomainPattern, type Gateway } from './gateway.ts';
export { createGatewayTlsCache, type ClientIdentity, type GatewayTlsCache } from './tls-cache.ts';
export { watchMachineIdentity, type MachineIdentitySource } from './machine-identity.ts';
export {
  openProxyConnection,
  openUpstreamTunnel,
  parseUpstreamProxy,
  upstreamProxyError,
  type UpstreamProxy,
  type UpstreamTunnelOptions,
} from './enterprise-proxy.ts';
export { connectTcp, dialError, formatTarget, resolveTarget, type Target, type Tunnel } from './hop.ts';
