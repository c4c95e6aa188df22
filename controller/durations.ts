/**
 * Durations on the command line, in Go's `time.ParseDuration` style that Kubernetes users know
 * (`500ms`, `15s`, `10m`, `1h30m`), plus `d` for days (`30d`); a bare `0` is zero.
 */

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration into milliseconds; throws an Error naming the text when it is not one. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
  let total = 0;
  let index = 0;
  while (index < trimmed.length) {
    part.lastIndex = index;
    const match = part.exec(trimmed);
    if (match === null) throw new Error(`invalid duration ${JSON.stringify(text)} (use e.g. 500ms, 15s, 10m, 720h, 30d)`);
    total += Number(match[1]) * (UNITS[match[2] as string] as number);
    index = part.lastIndex;
  }
  if (index === 0) throw new Error(`invalid duration ${JSON.stringify(text)} (use e.g. 500ms, 15s, 10m, 720h, 30d)`);
  return Math.round(total);
}
