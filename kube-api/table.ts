/**
 * Server-side printing: the meta.k8s.io/v1 `Table` kubectl asks for with
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`. Built-in kinds declare their columns;
 * custom resources use the CRD's additionalPrinterColumns (simple JSONPath), else Name and Age.
 */
import { isObject, text } from './json.js';
import type { JsonObject, JsonValue } from './json.js';
import { versionInfo } from './resources.js';
import type { ResourceDef, TableColumn } from './resources.js';

/** The Name column every table starts with. */
export const NAME_COLUMN: TableColumn = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};

/** The Age column of built-in printers (a human duration string). */
export const AGE_COLUMN: TableColumn = {
  name: 'Age',
  type: 'string',
  format: '',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  priority: 0,
};

/** duration.HumanDuration from apimachinery: "5s", "3m20s", "2d4h"... */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${hours / 24}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${days / 365}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

/** The Age cell of an object. */
export function ageOf(obj: JsonObject, now: number): string {
  const ts = (obj['metadata'] as JsonObject | undefined)?.['creationTimestamp'];
  if (typeof ts !== 'string') return '<unknown>';
  return humanDuration(now - Date.parse(ts));
}

/** The name of an object. */
function nameOf(obj: JsonObject): string {
  const n = (obj['metadata'] as JsonObject | undefined)?.['name'];
  return typeof n === 'string' ? n : '';
}

/** Evaluates the JSONPath subset printer columns use: `.a.b`, `.a[0]`, `.a[?(@.k=="v")].b`. */
function evalJsonPath(obj: JsonValue, path: string): JsonValue | undefined {
  const expr = path.trim().replace(/^\{/, '').replace(/\}$/, '').replace(/^\$/, '');
  const tokens = expr.match(/\.[^.[]+|\[[^\]]*\]/g) ?? [];
  let cur: JsonValue | undefined = obj;
  for (const tok of tokens) {
    if (cur === undefined || cur === null) return undefined;
    if (tok.startsWith('.')) {
      cur = isObject(cur) ? cur[tok.slice(1)] : undefined;
      continue;
    }
    const inner = tok.slice(1, -1);
    if (/^\d+$/.test(inner)) {
      cur = Array.isArray(cur) ? cur[Number(inner)] : undefined;
      continue;
    }
    const filter = /^\?\(@\.([\w.-]+)\s*==\s*["']([^"']*)["']\)$/.exec(inner);
    if (filter && Array.isArray(cur)) {
      const [, key, value] = filter;
      cur = cur.find((el) => isObject(el) && evalJsonPath(el, `.${key!}`) === value);
      continue;
    }
    return undefined;
  }
  return cur;
}

function crColumns(def: ResourceDef, version: string): { columns: TableColumn[]; paths: string[] } {
  const cols = versionInfo(def, version)?.printerColumns;
  const columns: TableColumn[] = [NAME_COLUMN];
  const paths: string[] = [];
  const list = cols && cols.length > 0 ? cols : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }];
  for (const c of list) {
    columns.push({
      name: text(c['name']),
      type: text(c['type']) || 'string',
      format: text(c['format']),
      description: text(c['description']),
      priority: typeof c['priority'] === 'number' ? c['priority'] : 0,
    });
    paths.push(text(c['jsonPath']));
  }
  return { columns, paths };
}

/** What each row carries besides cells (`includeObject` query parameter). */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Builds a Table from objects already in the representation of `version`. */
export function buildTable(
  def: ResourceDef,
  version: string,
  objs: JsonObject[],
  opts: { includeObject: IncludeObject; resourceVersion: string; continueToken?: string | undefined },
  now: number,
): JsonObject {
  let columns: TableColumn[];
  let cells: (o: JsonObject) => JsonValue[];
  if (def.hooks.table) {
    const t = def.hooks.table;
    columns = t.columns;
    cells = (o) => t.cells(o, now);
  } else if (!def.builtin) {
    const c = crColumns(def, version);
    columns = c.columns;
    // tableconvertor.cellForJSONValue: date cells become human-readable ages.
    cells = (o) => [
      nameOf(o),
      ...c.paths.map((p, i) => {
        const v = evalJsonPath(o, p) ?? null;
        if (c.columns[i + 1]?.type === 'date' && typeof v === 'string') {
          const t = Date.parse(v);
          return Number.isNaN(t) ? '<invalid>' : humanDuration(now - t);
        }
        return v;
      }),
    ];
  } else {
    columns = [NAME_COLUMN, { name: 'Created At', type: 'date', format: '', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 }];
    cells = (o) => [nameOf(o), (o['metadata'] as JsonObject)['creationTimestamp'] ?? null];
  }
  const rows = objs.map((o) => {
    const row: JsonObject = { cells: cells(o) };
    if (opts.includeObject === 'Object') row['object'] = o;
    else if (opts.includeObject === 'Metadata') {
      row['object'] = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o['metadata'] ?? {} };
    }
    return row;
  });
  const metadata: JsonObject = { resourceVersion: opts.resourceVersion };
  if (opts.continueToken) metadata['continue'] = opts.continueToken;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: columns.map((c) => ({ ...c })),
    rows,
  };
}
