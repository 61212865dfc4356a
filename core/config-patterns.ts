// What the values of localconfig.json look like: the proxy.bypass categories and the patterns of
// endpoints, proxy URLs and extension names. Apart from config.ts, so that the schemas (schemas.ts) and
// their generator can use them without the generated checks that config.ts imports.
export const BYPASS_CATEGORIES = ['AAD', 'ARM', 'Arc', 'AMA', 'ArcData'] as const;
export type BypassCategory = (typeof BYPASS_CATEGORIES)[number];

/** A port from 1 to 65535, after a colon. */
const PORT = '(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?';
/** An unbracketed IPv6 literal: hex groups with at least two colons, and no port. */
const BARE_IPV6 = '(?=[0-9A-Fa-f:.]*:[0-9A-Fa-f.]*:)[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f.]{0,15}){2,7}';
/** host, host:port, *.domain, *.domain:port, an IPv4 literal, or an IPv6 literal (bracketed when it has a port). */
export const ENDPOINT_PATTERN = `^(?:(?:(?:\\*\\.)?[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*|\\[[0-9A-Fa-f:.]+\\])${PORT}|${BARE_IPV6})$`;
export const PROXY_URL_PATTERN = `^$|^https?://(?:[^\\s/]+@)?(?:\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+)${PORT}/?$`;
export const EXTENSION_NAME = '^(?:[A-Za-z0-9.-]+/[A-Za-z0-9.-]+)$';
/** Allow/None means "allow nothing"; in the block-list it would mean nothing at all. */
export const BLOCKED_EXTENSION_NAME =
  '^(?![Aa][Ll][Ll][Oo][Ww]/[Nn][Oo][Nn][Ee]$)(?:[A-Za-z0-9.-]+/[A-Za-z0-9.-]+)$';
