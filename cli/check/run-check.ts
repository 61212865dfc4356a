// A check over the whole run rather than one endpoint (the clock against the cloud's). It only
// warns: what fails a run is a required endpoint.
import type { EndpointResult } from './probe.ts';

export interface RunCheckInput {
  results: readonly EndpointResult[];
}

export interface RunCheckOutcome {
  name: string;
  status: 'ok' | 'warning' | 'skipped';
  message: string;
  action: string | undefined;
  /** Figures of this check, under keys that stay stable (documented in docs/cli.md). */
  data: Record<string, unknown>;
}

export interface RunCheck {
  readonly name: string;
  evaluate(input: RunCheckInput): RunCheckOutcome;
}
