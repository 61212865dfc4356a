// The machine's clock against the cloud's, from the Date headers of the endpoints' answers (RFC 9110
// section 6.6.1, one-second resolution). Beyond 120 s the real agent warns (release 1.29): tokens and
// certificates carry validity times, and a skewed clock makes them look expired or not yet valid.
import type { RunCheck } from './run-check.ts';

export const MAX_SKEW_SECONDS = 120;
/** A Date names the second the server was in: its middle is the best guess. */
const HALF_SECOND = 500;

export const clockSkewCheck: RunCheck = {
  name: 'clock-skew',
  evaluate({ results }) {
    const skews = results
      .flatMap((r) => (r.date ? [(Date.parse(r.date.value) + HALF_SECOND - r.date.at) / 1000] : []))
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    if (skews.length === 0)
      return {
        name: this.name,
        status: 'skipped',
        message: 'no endpoint answered with a Date header',
        action: undefined,
        data: { seconds: null, answers: 0 },
      };
    // The median: one endpoint with a wrong clock (or a slow answer) does not decide.
    const seconds = Math.round(skews[Math.floor(skews.length / 2)]!);
    const data = { seconds, answers: skews.length };
    const way = seconds > 0 ? 'behind' : 'ahead of';
    if (Math.abs(seconds) > MAX_SKEW_SECONDS)
      return {
        name: this.name,
        status: 'warning',
        message: `this machine's clock is ${Math.abs(seconds)} s ${way} the cloud's (more than ${MAX_SKEW_SECONDS} s): tokens and certificates may be refused`,
        action: 'synchronise the clock with an NTP source (chrony or systemd-timesyncd)',
        data,
      };
    return {
      name: this.name,
      status: 'ok',
      message: `this machine's clock is within ${Math.max(1, Math.abs(seconds))} s of the cloud's`,
      action: undefined,
      data,
    };
  },
};
