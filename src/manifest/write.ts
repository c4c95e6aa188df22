/**
 * Writing manifests: YAML documents joined by `---`, or pretty JSON objects one after another (a
 * stream kubectl and kseal read back). Long strings are never folded, so base64 stays on one line
 * and diffs stay quiet.
 */
import { emitYaml } from './yaml-emit.js';

export type OutputFormat = 'yaml' | 'json';

/** Serialises objects in order. */
export function writeManifests(objects: readonly unknown[], format: OutputFormat): string {
  if (format === 'json') return objects.map((o) => `${JSON.stringify(o, null, 2)}\n`).join('');
  return objects.map((o) => emitYaml(o)).join('---\n');
}
