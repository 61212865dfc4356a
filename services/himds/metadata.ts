// What the agent tells the cloud about this machine, at registration and with every heartbeat:
// OS, host names, hardware, CPU and memory, network interfaces, and detected database servers.
// Each fact is read from the OS as it is; a fact that cannot be read is reported as absent, not guessed.
import { readFile, access } from 'node:fs/promises';
import os from 'node:os';
import { nodeCrypto } from '../../core/index.ts';

export interface MachineMetadata {
  osName: string;
  osVersion: string;
  osType: 'linux';
  kernel: string;
  hostname: string;
  fqdn: string;
  manufacturer: string | undefined;
  model: string | undefined;
  cpu: { logicalCores: number; model: string | undefined };
  memoryMiB: number;
  networkInterfaces: { name: string; addresses: { address: string; family: 'IPv4' | 'IPv6' }[] }[];
  detected: { mssql: boolean; mysql: boolean; postgresql: boolean };
}

const readText = (path: string) =>
  readFile(path, 'utf8').then(
    (s) => s.trim(),
    () => undefined,
  );
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );
const anyExists = async (paths: string[]) => (await Promise.all(paths.map(exists))).some(Boolean);

/** `NAME` and `VERSION_ID` from os-release (freedesktop.org os-release(5)). */
export function parseOsRelease(text: string): { name: string | undefined; version: string | undefined } {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=("?)(.*)\2$/.exec(line.trim());
    if (m) fields.set(m[1]!, m[3]!);
  }
  return {
    name: fields.get('NAME') ?? fields.get('ID'),
    version: fields.get('VERSION_ID') ?? fields.get('VERSION'),
  };
}

/** The FQDN as the resolver knows it (getaddrinfo, then getnameinfo), like `hostname -f`; bounded to 1 s. */
async function fullyQualified(hostname: string): Promise<string> {
  const resolveName = async () => {
    const { lookup, lookupService } = await import('node:dns/promises');
    const { address } = await lookup(hostname);
    const { hostname: name } = await lookupService(address, 0);
    return name.includes('.') ? name : hostname;
  };
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve(hostname), 1_000).unref());
  return Promise.race([resolveName().catch(() => hostname), timeout]);
}

export async function collectMetadata(): Promise<MachineMetadata> {
  const release = parseOsRelease((await readText('/etc/os-release')) ?? '');
  const hostname = os.hostname();
  const [fqdn, manufacturer, model, mssql, mysql, postgresql] = await Promise.all([
    fullyQualified(hostname),
    readText('/sys/class/dmi/id/sys_vendor'),
    readText('/sys/class/dmi/id/product_name'),
    anyExists(['/opt/mssql/bin/sqlservr']),
    anyExists(['/usr/sbin/mysqld', '/usr/bin/mysqld', '/usr/sbin/mariadbd']),
    anyExists(['/usr/lib/postgresql', '/usr/pgsql', '/usr/bin/postgres']),
  ]);
  const cpus = os.cpus();
  return {
    osName: release.name ?? os.type(),
    osVersion: release.version ?? os.release(),
    osType: 'linux',
    kernel: os.release(),
    hostname,
    fqdn,
    manufacturer,
    model,
    cpu: { logicalCores: cpus.length, model: cpus[0]?.model },
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    networkInterfaces: Object.entries(os.networkInterfaces()).map(([name, list]) => ({
      name,
      addresses: (list ?? []).map((a) => ({ address: a.address, family: a.family })),
    })),
    detected: { mssql, mysql, postgresql },
  };
}

/**
 * This host's instance fingerprint: the cloud compares it on every heartbeat, so a cloned disk
 * image that carries another machine's identity is found out (HTTP 429). It comes from
 * /etc/machine-id (systemd's per-installation id) and the hostname, hashed.
 */
export async function instanceFingerprint(): Promise<string> {
  const machineId = (await readText('/etc/machine-id')) ?? (await readText('/var/lib/dbus/machine-id')) ?? '';
  return nodeCrypto().createHash('sha256').update(`${machineId}\n${os.hostname()}`).digest('hex');
}
