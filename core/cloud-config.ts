// cloudconfig.json: what the cloud says about how this machine reaches it, today the Arc gateway it is
// associated with (its URL and the endpoints it serves). Written by `connect` and by the heartbeat
// when the cloud's answer changes; the Arc Proxy watches it. Absent or `gateway: null`: no gateway.
import type { Static } from 'typebox';
import { readSchemaFile, writeJsonFile } from './json-file.ts';
import type { CloudConfigSchema, GatewayConfigSchema } from './schemas.ts';
import { type FileWatcher, watchFile } from './watch-file.ts';

export type GatewayConfig = Static<typeof GatewayConfigSchema>;
export type CloudConfig = Static<typeof CloudConfigSchema>;

export const NO_CLOUD_CONFIG: CloudConfig = { gateway: null };

/** The cloud configuration; `{ gateway: null }` when the file does not exist. */
export const readCloudConfig = async (path: string): Promise<CloudConfig> =>
  (await readSchemaFile(path, 'CloudConfigSchema')) ?? NO_CLOUD_CONFIG;

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
