// Plain-text building blocks for the human (non --json) output: aligned tables and short numbers.

export function formatNumber(v: number | string | null): string {
  if (v === null) return '-';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e12 || a < 1e-4) ? v.toExponential(6) : String(Number(v.toPrecision(10)));
}

/**
 * Columns left-aligned for the first `textCols` columns, right-aligned (numbers) after; columns from
 * `trailingText` on are left-aligned again (e.g. a histogram's bars).
 */
export function table(head: string[], rows: string[][], textCols = 2, trailingText = Infinity): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const left = (i: number) => i < textCols || i >= trailingText;
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (left(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
