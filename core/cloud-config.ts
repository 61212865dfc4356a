// cloudconfig.json: what the cloud says about how this machine reaches it, today the Arc gateway it is
// associated with (its URL and the endpoints it serves). Written by `connect` and by the heartbeat
// when the cloud's answer changes; the Arc Proxy watches it. Absent or `gateway: null`: no gateway.
import { Type, type Static } from 'typebox';
import { readSchemaFile, writeJsonFile } from './json-file.ts';
import { type FileWatcher, watchFile } from './watch-file.ts';

export const GatewayConfigSchema = Type.Object(
  {
    /** ARM id of the Microsoft.HybridCompute/gateways resource. */
    id: Type.String({ minLength: 1 }),
    /** https://<prefix>.gw.<domain>[:port], the gateway's endpoint. */
    url: Type.String({ pattern: '^https://' }),
    /** Destinations the gateway serves: host, host:port, *.domain, *.domain:port (port 443 if none). */
    endpoints: Type.Array(Type.String()),
  },
  { additionalProperties: true },
);

export const CloudConfigSchema = Type.Object(
  {
    gateway: Type.Union([GatewayConfigSchema, Type.Null()]),
    /** ISO-8601 time the cloud last said this. */
    updatedAt: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

export type GatewayConfig = Static<typeof GatewayConfigSchema>;
export type CloudConfig = Static<typeof CloudConfigSchema>;

export const NO_CLOUD_CONFIG: CloudConfig = { gateway: null };

/** The cloud configuration; `{ gateway: null }` when the file does not exist. */
export const readCloudConfig = async (path: string): Promise<CloudConfig> =>
  (await readSchemaFile(path, CloudConfigSchema)) ?? NO_CLOUD_CONFIG;

export const writeCloudConfig = (path: string, config: CloudConfig): Promise<void> =>
  writeJsonFile(path, config);

/** Calls `onChange` whenever cloudconfig.json changes on disk; an unreadable file goes to `onError`. */
export function watchCloudConfig(
  path: string,
  onChange: (config: CloudConfig) => void,
  onError: (err: unknown) => void,
): FileWatcher {
  return watchFile(path, readCloudConfig, onChange, onError);
}
