// A locked-down machine for tests: a network namespace whose only way out is a veth pair to the
// host's namespace, where the Arc gateway listens. The local cloud's other endpoints listen on the
// host's loopback, which the namespace cannot reach (it has a loopback of its own).
//
//   host namespace                               machine namespace
//   local cloud 127.0.0.1:PORT  (unreachable)    azcmagent run: Arc Proxy, HIMDS on its own 127.0.0.1
//   gateway     10.X.Y.1:GWPORT <--- veth ---->  10.X.Y.2 (the only route out)
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

export interface Namespace {
  name: string;
  /** The host side of the veth pair: where the gateway listens. */
  hostAddress: string;
  machineAddress: string;
  /** Prefix for a command that runs inside the namespace. */
  exec: string[];
  remove(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });

/** Why namespaces cannot be made here, or undefined when they can. */
export function namespacesUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    ip('netns', 'list');
  } catch (err) {
    return `\`ip netns\` does not work here: ${(err as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

export function createNamespace(): Namespace {
  const id = `${process.pid % 1000}${randomInt(100)}`.slice(-5);
  const name = `azcm-${id}`;
  const hostIf = `azh${id}`;
  const machineIf = `azm${id}`;
  const subnet = `10.${200 + randomInt(50)}.${randomInt(250)}`;
  const hostAddress = `${subnet}.1`;
  const machineAddress = `${subnet}.2`;
  ip('netns', 'add', name);
  try {
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', machineIf);
    ip('link', 'set', machineIf, 'netns', name);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('-n', name, 'addr', 'add', `${machineAddress}/30`, 'dev', machineIf);
    ip('-n', name, 'link', 'set', machineIf, 'up');
    ip('-n', name, 'link', 'set', 'lo', 'up');
  } catch (err) {
    ip('netns', 'del', name);
    throw err;
  }
  return {
    name,
    hostAddress,
    machineAddress,
    exec: ['ip', 'netns', 'exec', name],
    remove() {
      try {
        ip('link', 'del', hostIf);
      } catch {
        // gone with the namespace already
      }
      ip('netns', 'del', name);
    },
  };
}
