/**
 * Per-object results of the commands that walk many SealedSecrets (validate, reencrypt): one line
 * per object on the way (text, or JSON lines with --error-format json), a summary with correct
 * plurals, and the whole report as one JSON document with -o json. Also the bounded concurrency
 * those commands send requests with.
 */
import type { Command } from 'commander';
import type { CliIo } from './io.js';

export type Outcome = 'ok' | 'failed' | 'skipped' | 'resealed' | 'current' | 'unchanged';

/** What happened to one object (or to a document that is not one). */
export interface ObjectResult {
  readonly file: string;
  readonly document?: number | undefined;
  readonly item?: number | undefined;
  readonly kind?: string | undefined;
  readonly namespace?: string | undefined;
  readonly name?: string | undefined;
  readonly outcome: Outcome;
  readonly message?: string | undefined;
}

/** "1 SealedSecret", "2 SealedSecrets". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** True when errors (and per-object lines) are to be JSON: `--error-format json` or KSEAL_ERROR_FORMAT=json. */
export function jsonErrors(command: Command): boolean {
  let root: Command = command;
  while (root.parent !== null) root = root.parent;
  return root.opts<{ errorFormat?: string }>().errorFormat === 'json';
}

/** Where an object is, for a text line. */
export function where(r: ObjectResult): string {
  return `${r.file}${r.document === undefined ? '' : `: document ${r.document}`}${r.item === undefined ? '' : `: item ${r.item}`}`;
}

/** Collects results and prints each as it comes. */
export class ResultLog {
  readonly results: ObjectResult[] = [];

  constructor(
    private readonly io: CliIo,
    private readonly options: { readonly json: boolean; readonly text: (r: ObjectResult) => { stream: 'stdout' | 'stderr'; line: string } | undefined; readonly quiet?: boolean },
  ) {}

  add(result: ObjectResult): void {
    this.results.push(result);
    if (this.options.quiet === true) return;
    if (this.options.json) {
      if (result.outcome === 'failed' || result.outcome === 'skipped') this.io.stderr(`${JSON.stringify({ result })}\n`);
      return;
    }
    const out = this.options.text(result);
    if (out !== undefined) this.io[out.stream](`${out.line}\n`);
  }

  /**
   * An ordered sink for one batch: `put(i, result)` may be called in any order; results are added
   * (and printed) in index order, each as soon as every earlier one is in.
   */
  ordered(): (index: number, result: ObjectResult) => void {
    const waiting = new Map<number, ObjectResult>();
    let cursor = 0;
    return (index, result) => {
      waiting.set(index, result);
      for (let r = waiting.get(cursor); r !== undefined; r = waiting.get(cursor)) {
        waiting.delete(cursor++);
        this.add(r);
      }
    };
  }

  tally(outcome: Outcome): number {
    return this.results.filter((r) => r.outcome === outcome).length;
  }
}

/** Runs `work` on every item with at most `limit` in flight, keeping results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T, i);
    }
  });
  await Promise.all(lanes);
  return results;
}
