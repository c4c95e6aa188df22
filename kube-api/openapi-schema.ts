/**
 * Structural-schema handling for custom resources, as the apiextensions server does it
 * (apiextensions-apiserver/pkg/apiserver/schema/{pruning,defaulting} and kube-openapi validate):
 * unknown fields are pruned (unless x-kubernetes-preserve-unknown-fields), `default`s are applied,
 * then type/required/enum/bounds/pattern are validated. Formats, CEL rules and
 * x-kubernetes-list-type are not checked.
 */
import { fieldError } from './errors.js';
import type { FieldError } from './errors.js';
import { clone, isObject } from './json.js';
import type { JsonObject, JsonValue } from './json.js';

function typeName(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function childPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * Prunes unknown fields and applies defaults in place. Returns the dotted paths of pruned fields
 * (the server reports them as `unknown field "spec.foo"` warnings).
 */
export function pruneAndDefault(obj: JsonObject, schema: JsonObject | undefined): string[] {
  const pruned: string[] = [];
  if (!schema) return pruned;
  visitPrune(obj, schema, '', pruned, true);
  return pruned;
}

function visitPrune(value: JsonValue, schema: JsonObject, path: string, pruned: string[], root: boolean): void {
  if (isObject(value)) {
    const props = isObject(schema['properties']) ? schema['properties'] : undefined;
    const additional = schema['additionalProperties'];
    const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
    if (props) {
      for (const [k, s] of Object.entries(props)) {
        if (isObject(s) && value[k] === undefined && s['default'] !== undefined) value[k] = clone(s['default']);
      }
    }
    for (const key of Object.keys(value)) {
      if (root && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
      const propSchema = props?.[key];
      if (isObject(propSchema)) {
        visitPrune(value[key]!, propSchema, childPath(path, key), pruned, false);
      } else if (isObject(additional)) {
        visitPrune(value[key]!, additional, childPath(path, key), pruned, false);
      } else if (!preserve && additional !== true) {
        pruned.push(childPath(path, key));
        delete value[key];
      }
    }
    return;
  }
  if (Array.isArray(value) && isObject(schema['items'])) {
    value.forEach((el, i) => visitPrune(el, schema['items'] as JsonObject, `${path}[${i}]`, pruned, false));
  }
}

/** Validates a custom resource against its schema; error paths are like `spec.encryptedData`. */
export function validateAgainstSchema(obj: JsonObject, schema: JsonObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  if (!schema) return errs;
  const rootSchema: JsonObject = { ...schema };
  if (isObject(rootSchema['properties'])) {
    const props = { ...rootSchema['properties'] };
    delete props['metadata'];
    delete props['apiVersion'];
    delete props['kind'];
    rootSchema['properties'] = props;
  }
  const rootValue: JsonObject = { ...obj };
  delete rootValue['metadata'];
  delete rootValue['apiVersion'];
  delete rootValue['kind'];
  visitValidate(rootValue, rootSchema, '', errs);
  return errs;
}

function visitValidate(value: JsonValue, schema: JsonObject, path: string, errs: FieldError[]): void {
  const type = typeof schema['type'] === 'string' ? schema['type'] : undefined;
  const actual = typeName(value);
  if (value === null) {
    if (schema['nullable'] === true || !type) return;
    errs.push(fieldError.typeInvalid(path, 'null', `${path} in body must be of type ${type}: "null"`));
    return;
  }
  if (schema['x-kubernetes-int-or-string'] === true) {
    if (actual !== 'integer' && actual !== 'string') errs.push(fieldError.typeInvalid(path, actual, `${path} in body must be of type integer,string: "${actual}"`));
    return;
  }
  if (type) {
    const ok = type === actual || (type === 'number' && actual === 'integer');
    if (!ok) {
      errs.push(fieldError.typeInvalid(path, actual, `${path} in body must be of type ${type}: "${actual}"`));
      return;
    }
  }
  const enumValues = schema['enum'];
  if (Array.isArray(enumValues) && !enumValues.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errs.push(fieldError.notSupported(path, value, enumValues.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)))));
  }
  if (typeof value === 'string') {
    const min = schema['minLength'];
    const max = schema['maxLength'];
    if (typeof max === 'number' && value.length > max) errs.push({ type: 'FieldValueTooLong', field: path, detail: `may not be more than ${max} bytes` });
    if (typeof min === 'number' && value.length < min) errs.push(fieldError.invalid(path, value, `${path} in body should be at least ${min} chars long`));
    const pattern = schema['pattern'];
    if (typeof pattern === 'string') {
      let re: RegExp | undefined;
      try { re = new RegExp(pattern, 'u'); } catch { re = undefined; }
      if (re && !re.test(value)) errs.push(fieldError.invalid(path, value, `${path} in body should match '${pattern}'`));
    }
  } else if (typeof value === 'number') {
    const min = schema['minimum'];
    const max = schema['maximum'];
    if (typeof min === 'number' && (schema['exclusiveMinimum'] === true ? value <= min : value < min)) {
      errs.push(fieldError.invalid(path, value, `${path} in body should be greater than ${schema['exclusiveMinimum'] === true ? '' : 'or equal to '}${min}`));
    }
    if (typeof max === 'number' && (schema['exclusiveMaximum'] === true ? value >= max : value > max)) {
      errs.push(fieldError.invalid(path, value, `${path} in body should be less than ${schema['exclusiveMaximum'] === true ? '' : 'or equal to '}${max}`));
    }
  } else if (Array.isArray(value)) {
    const minItems = schema['minItems'];
    const maxItems = schema['maxItems'];
    if (typeof maxItems === 'number' && value.length > maxItems) errs.push({ type: 'FieldValueTooMany', field: path, value: value.length, detail: `must have at most ${maxItems} items` });
    if (typeof minItems === 'number' && value.length < minItems) errs.push(fieldError.invalid(path, value.length, `${path} in body should have at least ${minItems} items`));
    const items = schema['items'];
    if (isObject(items)) value.forEach((el, i) => visitValidate(el, items, `${path}[${i}]`, errs));
  } else if (isObject(value)) {
    const required = schema['required'];
    if (Array.isArray(required)) {
      for (const r of required) if (typeof r === 'string' && value[r] === undefined) errs.push(fieldError.required(childPath(path, r)));
    }
    const props = isObject(schema['properties']) ? schema['properties'] : {};
    const additional = schema['additionalProperties'];
    for (const [k, v] of Object.entries(value)) {
      const s = props[k];
      if (isObject(s)) visitValidate(v, s, childPath(path, k), errs);
      else if (isObject(additional)) visitValidate(v, additional, childPath(path, k), errs);
    }
    const minProps = schema['minProperties'];
    if (typeof minProps === 'number' && Object.keys(value).length < minProps) {
      errs.push(fieldError.invalid(path, Object.keys(value).length, `${path} in body should have at least ${minProps} properties`));
    }
  }
}
