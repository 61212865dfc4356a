// The time as HIMDS's request path reads it: Date.now(), which allocates nothing, unless a clock is
// given (tests give one as `now: () => Date`). A request reads the time several times; four
// `new Date()` a request were ~1.8 us of it in bench:himds's profile.

/** Milliseconds since the epoch, from `now` when given, else Date.now. */
export const msClock = (now?: () => Date): (() => number) => (now ? () => now().getTime() : Date.now);
