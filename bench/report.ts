/** One benchmark figure with its target, and the table and JSON they are printed as. */

export interface Figure {
  /** Workload number and name, e.g. "6 CLI latency". */
  readonly workload: string;
  /** What was measured, in words. */
  readonly metric: string;
  /** The measured value in its unit (ratios are unitless). */
  readonly value: number;
  readonly unit: string;
  /** The target as text, e.g. "<= 1.5x". */
  readonly target: string;
  /** Whether the target is met; undefined for figures that are context, not targets. */
  readonly met: boolean | undefined;
  /** Raw numbers behind the figure (times, counts), for the JSON. */
  readonly detail?: Readonly<Record<string, number | string>>;
}

/** Formats a number compactly for the table. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** The figures as a fixed-width table. */
export function table(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [f.workload, f.metric, `${fmt(f.value)} ${f.unit}`.trim(), f.target, f.met === undefined ? '' : f.met ? 'met' : 'MISSED']);
  const head = ['workload', 'figure', 'value', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Median of a list of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Least-squares slope and intercept of y over x (e.g. RSS over objects held: the marginal cost per object). */
export function linearFit(points: ReadonlyArray<readonly [number, number]>): { slope: number; intercept: number } {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const slope = sxx === 0 ? Number.NaN : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}
