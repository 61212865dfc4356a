// Medians, number formatting and a plain-text table with aligned columns, for the benchmark's report.

export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A number with thousands separators and `digits` decimals; `-` for NaN. */
export const fmt = (value: number, digits = 0): string =>
  Number.isNaN(value)
    ? '-'
    : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** `median (run / run / run)` */
export const withRuns = (values: readonly number[], digits = 0): string =>
  values.length > 1
    ? `${fmt(median(values), digits)} (${values.map((v) => fmt(v, digits)).join(' / ')})`
    : fmt(median(values), digits);

/** A Markdown-compatible table whose columns are padded to line up in a terminal. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${widths.map((w, i) => (cells[i] ?? '').padEnd(w)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
