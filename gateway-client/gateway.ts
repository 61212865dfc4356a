// The Arc gateway as the client needs it: its ARM id, the URL cloudconfig.json gives, and the host
// and port that URL names (the host is also the TLS server name, SNI).
import type { GatewayConfig } from '../core/index.ts';
import { type Target, formatTarget } from './hop.ts';

export interface Gateway {
  /** ARM id of the Microsoft.HybridCompute/gateways resource. */
  id: string;
  /** The URL as cloudconfig.json gives it, e.g. https://<prefix>.gw.arc.azure.com. */
  url: string;
  host: string;
  port: number;
}

/** The gateway of cloudconfig.json, or undefined when its URL is not an https:// URL with a host name. */
export function parseGateway(config: Pick<GatewayConfig, 'id' | 'url'>): Gateway | undefined {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || !url.hostname) return undefined;
  return {
    id: config.id,
    url: config.url,
    host: url.hostname.replace(/^\[|\]$/g, '').toLowerCase(),
    port: Number(url.port) || 443,
  };
}

export const gatewayAuthority = (gateway: Gateway): string => formatTarget(gatewayTarget(gateway));

export const gatewayTarget = (gateway: Gateway): Target => ({ host: gateway.host, port: gateway.port });

/** `*.gw.arc.azure.com` for `<prefix>.gw.arc.azure.com`: what TLS inspection must leave alone. */
export const gatewayDomainPattern = (gateway: Gateway): string => {
  const dot = gateway.host.indexOf('.');
  return dot > 0 ? `*${gateway.host.slice(dot)}` : gateway.host;
};
