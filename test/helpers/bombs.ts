/** Hostile inputs built at run time (too large to commit): duplicate-key bombs, many documents, deep nesting, alias bombs. */

/** A Secret whose stringData holds `keys` distinct keys and then `k0` again (issue 9: ~72,000 keys in 1 MiB). */
export function duplicateKeyBomb(keys = 72_000): string {
  const parts = ['apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: app}\nstringData:\n'];
  for (let i = 0; i < keys; i++) parts.push(`  k${i}: v\n`);
  parts.push('  k0: v\n');
  return parts.join('');
}

/** The same bomb as one JSON object. */
export function duplicateKeyBombJson(keys = 72_000): string {
  const parts = ['{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"app"},"stringData":{'];
  for (let i = 0; i < keys; i++) parts.push(`"k${i}":"v",`);
  parts.push('"k0":"v"}}');
  return parts.join('');
}

/** A SealedSecret-shaped object with `keys` distinct keys under spec.encryptedData (over the entries cap, no duplicate). */
export function manyKeysSealed(keys: number): string {
  const parts = ['apiVersion: kseal.dev/v1\nkind: SealedSecret\nmetadata: {name: db, namespace: app}\nspec:\n  encryptedData:\n'];
  for (let i = 0; i < keys; i++) parts.push(`    k${i}: AgA=\n`);
  return parts.join('');
}

/** `count` small documents. */
export function manyDocuments(count: number): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(`---\nkind: ConfigMap\nmetadata: {name: c${i}}\n`);
  return parts.join('');
}

/** Block mappings nested `depth` levels. */
export function deepBlockNesting(depth: number): string {
  const parts: string[] = [];
  for (let i = 0; i < depth; i++) parts.push(`${' '.repeat(i)}k:\n`);
  parts.push(`${' '.repeat(depth)}v: 1\n`);
  return parts.join('');
}

/** Flow sequences nested `depth` levels (1 MiB of `[` is half a million levels). */
export function deepFlowNesting(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** One anchor and `count` aliases of it. */
export function manyAliases(count: number): string {
  const parts = ['a: &a x\nb:\n'];
  for (let i = 0; i < count; i++) parts.push('  - *a\n');
  return parts.join('');
}
