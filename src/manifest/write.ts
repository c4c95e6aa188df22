/**
 * Writing manifests: YAML documents joined by `---`, or pretty JSON objects one after another (a
 * stream kubectl and kseal read back). Long strings are never folded, so base64 stays on one line
 * and diffs stay quiet. One object's text and the joining are separate so that objects serialised
 * elsewhere (bulk sealing's worker threads) join into the same stream.
 */
import { emitYaml } from './yaml-emit.js';

export type OutputFormat = 'yaml' | 'json';

/** Serialises objects in order. */
export function writeManifests(objects: readonly unknown[], format: OutputFormat): string {
  return joinManifests(
    objects.map((o) => writeManifest(o, format)),
    format,
  );
}

/** One object's text in a stream of `format`. */
export function writeManifest(object: unknown, format: OutputFormat): string {
  return format === 'json' ? `${JSON.stringify(object, null, 2)}\n` : emitYaml(object);
}

/** Joins objects' texts (from writeManifest) into one stream. */
export function joinManifests(texts: readonly string[], format: OutputFormat): string {
  return texts.join(format === 'json' ? '' : '---\n');
}
