// Whether this machine has a usable identity: connected (agentconfig.json exists), and neither
// reported Expired by the cloud nor past its certificate's notAfter. A machine without one gets an
// error that says so and what to do, never a token from the cache (../shared/ARCHITECTURE.md,
// "Nothing is lost and nothing is silent"). agentconfig.json is re-read at most once a second.
import { AgentError, readAgentState, type AgentState } from '../../core/index.ts';
import { msClock } from './clock.ts';

export type MachineStatus =
  | { kind: 'connected'; state: AgentState }
  | { kind: 'not-connected'; reason?: string }
  | { kind: 'expired'; state: AgentState; since: string | undefined };

/** certificateNotAfter as ms, parsed once per read of the state file (every request asks). */
const notAfterMs = new WeakMap<AgentState, number>();
function notAfterOf(state: AgentState): number {
  let ms = notAfterMs.get(state);
  if (ms === undefined) {
    ms = state.certificateNotAfter ? Date.parse(state.certificateNotAfter) : NaN;
    notAfterMs.set(state, ms);
  }
  return ms;
}

/** The decision, from the state file's contents and the time (ms); no I/O. */
export function machineStatus(state: AgentState | undefined, nowMs: number): MachineStatus {
  if (!state) return { kind: 'not-connected' };
  const notAfter = notAfterOf(state);
  if (notAfter <= nowMs) return { kind: 'expired', state, since: state.certificateNotAfter };
  if (state.status === 'Expired') return { kind: 'expired', state, since: state.errorTimestamp };
  return { kind: 'connected', state };
}

/** The connected state, or the refusal HIMDS answers with. */
export function requireConnected(status: MachineStatus): AgentState {
  if (status.kind === 'connected') return status.state;
  if (status.kind === 'expired')
    throw new AgentError(
      'HIMDS_IDENTITY_EXPIRED',
      status.since ? `it expired at ${status.since}` : 'the cloud reports it as Expired',
    );
  throw new AgentError('HIMDS_NOT_CONNECTED', status.reason);
}

export interface StateReader {
  status(): Promise<MachineStatus>;
  /** The status at once when a fresh read has finished (every request but one a second), else undefined. */
  peek(): MachineStatus | undefined;
}

/** Reads agentconfig.json at `path`, at most once per `maxAgeMs`; concurrent callers share a read. */
export function createStateReader(opts: { path: string; now?: () => Date; maxAgeMs?: number }): StateReader {
  const now = msClock(opts.now);
  const maxAgeMs = opts.maxAgeMs ?? 1_000;
  interface Read {
    at: number;
    state: Promise<AgentState | undefined>;
    /** What the read gave, once it has finished. */
    done?: { state: AgentState | undefined } | { error: Error };
  }
  let cached: Read | undefined;

  const fresh = (at: number) => cached !== undefined && at - cached.at < maxAgeMs && at >= cached.at;
  const decide = (done: NonNullable<Read['done']>, at: number): MachineStatus =>
    'error' in done
      ? { kind: 'not-connected', reason: `the connection state cannot be read: ${done.error.message}` }
      : machineStatus(done.state, at);

  return {
    async status() {
      const at = now();
      if (!fresh(at)) {
        const read: Read = { at, state: readAgentState(opts.path) };
        read.state.then(
          (state) => (read.done = { state }),
          (err: Error) => (read.done = { error: err }),
        );
        cached = read;
      }
      const read = cached!;
      await read.state.catch(() => {}); // the outcome is in read.done from here on
      return decide(read.done!, now());
    },
    peek() {
      const at = now();
      return fresh(at) && cached!.done ? decide(cached!.done, at) : undefined;
    },
  };
}
