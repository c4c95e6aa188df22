/**
 * `kseal merge-driver %O %A %B %L %P`: a git merge driver for files of SealedSecrets
 * (src/merge/sealed-merge.ts). Branches that change different keys of one SealedSecret merge
 * cleanly, byte for byte; a key changed on both sides is a conflict. On a conflict the result in
 * %A holds git's conflict markers around just the conflicting lines (every other change merged),
 * the conflicting keys are listed on stderr, and the exit status is 9, so git reports the file as
 * conflicted and `git status`, `git diff`, `git checkout --ours/--theirs` and mergetools work as
 * for any conflict. No key and no plaintext are needed.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import { mergeSealedText, type MergeConflict } from '../../src/merge/sealed-merge.js';
import { writeFileAtomic } from '../atomic-write.js';
import { gitMergeFile } from '../git-merge-file.js';
import { fileError, type CliIo } from '../io.js';

/** Registers the command. */
export function mergeDriverCommand(program: Command, io: CliIo): void {
  program
    .command('merge-driver')
    .summary('git merge driver: merge SealedSecret files key by key')
    .description(
      'Merge two versions of a file of SealedSecrets against their common ancestor, as a git merge driver: changes to different keys merge cleanly, a key changed on both sides is a conflict (exit 9, git conflict markers in OURS). Set it up once per clone:\n  git config merge.kseal.driver "kseal merge-driver %O %A %B %L %P"\nand in .gitattributes:\n  *.sealed.yaml merge=kseal',
    )
    .argument('<base>', 'the common ancestor (git: %O)')
    .argument('<ours>', 'our version; the result is written here (git: %A)')
    .argument('<theirs>', 'their version (git: %B)')
    .argument('[marker-size]', 'length of conflict markers (git: %L)', '7')
    .argument('[path]', 'the file\'s path in the repo, for messages (git: %P)')
    .action(async (basePath: string, oursPath: string, theirsPath: string, markerSize: string, path: string | undefined) => {
      const size = Number(markerSize);
      if (!Number.isInteger(size) || size < 1 || size > 100) throw new KsealError('USAGE', 'the marker size must be a whole number from 1 to 100', { hint: 'git passes it as %L' });
      const shown = path ?? oursPath;
      const read = async (p: string): Promise<string> => readFile(p, 'utf8').catch((e: unknown) => Promise.reject(fileError('read', p, e)));
      const [base, ours, theirs] = await Promise.all([read(basePath), read(oursPath), read(theirsPath)]);
      const labels = { ours: 'ours', theirs: 'theirs' };
      const result = mergeSealedText(base, ours, theirs, { markerSize: size, oursLabel: labels.ours, theirsLabel: labels.theirs, lineMerge: gitMergeFile(labels, size) });
      await writeFileAtomic(io.cwd, oursPath, result.text);
      if (result.conflicts.length === 0) return;
      for (const c of result.conflicts) io.stderr(`kseal: merge conflict in ${describe(shown, c)}\n`);
      throw new KsealError('MERGE_CONFLICT', `${result.conflicts.length} conflict${result.conflicts.length === 1 ? '' : 's'}; the file holds both sides between conflict markers`, {
        file: shown,
        hint: 'keep one side of each marked key (or git checkout --ours/--theirs FILE), or seal the value again with kseal set FILE KEY; then git add FILE',
      });
    });
}

/** "FILE, document 1 (SealedSecret ns/name), spec.encryptedData key "password": reason". */
function describe(file: string, c: MergeConflict): string {
  const where = [file, c.document === undefined ? undefined : `document ${c.document}${c.object === undefined ? '' : ` (SealedSecret ${c.object})`}`, c.field === undefined ? undefined : `${c.field}${c.key === undefined ? '' : ` key ${JSON.stringify(c.key)}`}`];
  return `${where.filter((w) => w !== undefined).join(', ')}: ${c.reason}`;
}
