// How commands speak: results on stdout (tables, or JSON with -j), diagnostics on stderr, and every
// failure as its stable code, message and fix, with the AZCM exit code.
import { AgentError, redactSecrets } from '../core/index.ts';

export interface GlobalOptions {
  home?: string;
  json?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Left-aligned columns, two spaces apart; the header row first. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
}

/** Ends the command with an error: code, message and fix on stderr (or as JSON), exit code from the registry. */
export function fail(err: unknown, json: boolean | undefined): never {
  const agentErr =
    err instanceof AgentError
      ? err
      : new AgentError('INTERNAL', redactSecrets(String((err as Error)?.message ?? err)));
  if (json) printJson({ error: agentErr.toJSON() });
  else
    process.stderr.write(
      `Error ${agentErr.code}: ${redactSecrets(agentErr.message)}\n  To fix: ${agentErr.action}\n`,
    );
  process.exit(agentErr.exitCode);
}
