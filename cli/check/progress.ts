// Progress while the probes run, on stderr and only on a terminal: one line rewritten in place,
// erased at the end, so that a pipe or a log file gets the results alone.
import type { EndpointResult } from './probe.ts';

export interface Progress {
  start: () => void;
  update: (done: number, total: number, last: EndpointResult) => void;
  finish: () => void;
}

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { start: () => {}, update: () => {}, finish: () => {} };
  const show = (text: string) => stream.write(`\r\x1b[K${text}`);
  return {
    start: () => show('checking endpoints...'),
    update: (done, total, last) =>
      show(`checking endpoints: ${done}/${total} done (${last.host}: ${last.status})`),
    finish: () => stream.write('\r\x1b[K'),
  };
}
