// Where the instance metadata document's facts come from, cached: what the OS says about the machine
// (collectMetadata reads files and resolves the FQDN, too slow for every request) is refreshed in
// the background every 5 minutes, and a cloud profile file is read once per cloud name.
import { loadCloudProfile, type AgentState } from '../../core/index.ts';
import { buildInstance, type Compute, type Instance } from './instance-metadata.ts';
import { collectMetadata, type MachineMetadata } from './metadata.ts';
import { msClock } from './clock.ts';

export const METADATA_MAX_AGE_MS = 5 * 60_000;

export interface InstanceSource {
  compute(state: AgentState): Promise<Compute>;
  instance(state: AgentState): Promise<Instance>;
  /** The document at once when the last one built is still current for `state`, else undefined. */
  peek(state: AgentState): Instance | undefined;
}

export function createInstanceSource(
  opts: { collect?: () => Promise<MachineMetadata>; maxAgeMs?: number; now?: () => Date } = {},
): InstanceSource {
  const collect = opts.collect ?? collectMetadata;
  const maxAgeMs = opts.maxAgeMs ?? METADATA_MAX_AGE_MS;
  const now = msClock(opts.now);
  /** The facts being served, since `at`; `settled` once `value` has resolved. */
  let facts: { at: number; value: Promise<MachineMetadata>; settled?: MachineMetadata } | undefined;
  const settle = (entry: NonNullable<typeof facts>) =>
    entry.value.then(
      (value) => (entry.settled = value),
      () => {},
    );
  const cloudNames = new Map<string, Promise<string>>();

  const machine = async (): Promise<MachineMetadata> => {
    const at = now();
    if (!facts) {
      facts = { at, value: collect() };
      void settle(facts);
    } else if (at - facts.at >= maxAgeMs) {
      // Serve what we have while the new facts are read; keep the old ones if that fails.
      const previous = facts.value;
      const next = collect().catch(() => previous);
      facts = { at, value: previous, ...(facts.settled ? { settled: facts.settled } : {}) };
      void next.then((value) => (facts = { at, value: Promise.resolve(value), settled: value }));
    }
    return facts.value.catch((err: unknown) => {
      facts = undefined; // the first read failed: try again next time
      throw err;
    });
  };

  const cloudName = (cloud: string): Promise<string> => {
    let name = cloudNames.get(cloud);
    if (!name) {
      name = loadCloudProfile(cloud).then(
        (p) => p.name,
        () => cloud,
      );
      cloudNames.set(cloud, name);
    }
    return name;
  };

  // The last document built, reused while its inputs are the same objects (the state reader hands
  // out one object per read of agentconfig.json), so that a busy route does not rebuild it per request.
  let last: { state: AgentState; facts: MachineMetadata; name: string; doc: Instance } | undefined;
  const build = async (state: AgentState): Promise<Instance> => {
    const [facts, name] = await Promise.all([machine(), cloudName(state.cloud)]);
    if (last?.state !== state || last.facts !== facts || last.name !== name)
      last = { state, facts, name, doc: buildInstance(state, facts, name) };
    return last.doc;
  };

  return {
    compute: async (state) => (await build(state)).compute,
    instance: build,
    peek(state) {
      const current = last?.state === state && facts?.settled === last.facts && now() - facts.at < maxAgeMs;
      return current ? last!.doc : undefined;
    },
  };
}
