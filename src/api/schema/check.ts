// Structural check of a spec against its schema: unknown fields, value types, enums, required fields.
// Returns a sanitized copy holding only well-typed known fields, so semantic validators can trust the shape.
import { parseDuration } from '../duration.js';
import { joinPath, type ErrorList } from '../errors.js';
import type { Schema } from './dsl.js';

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks `value` at `path` against `schema`, reporting into `errs`. Returns the sanitized value, or undefined
 * when the value is unusable (wrong type). Null values count as absent (as Istio's JSON unmarshalling does).
 */
export function checkValue(value: unknown, schema: Schema, path: string, errs: ErrorList): unknown {
  switch (schema.t) {
    case 'ref':
      return checkValue(value, schema.get(), path, errs);
    case 'string':
      if (typeof value !== 'string') {
        errs.add(path, `expected string, got ${typeName(value)}`);
        return undefined;
      }
      if (schema.enum && !schema.enum.includes(value)) {
        errs.add(path, `invalid value ${JSON.stringify(value)}, must be one of ${schema.enum.join(', ')}`);
        return undefined;
      }
      return value;
    case 'bool':
      if (typeof value !== 'boolean') {
        errs.add(path, `expected bool, got ${typeName(value)}`);
        return undefined;
      }
      return value;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        errs.add(path, `expected number, got ${typeName(value)}`);
        return undefined;
      }
      return value;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        errs.add(path, `expected integer, got ${typeof value === 'number' ? String(value) : typeName(value)}`);
        return undefined;
      }
      if (schema.min !== undefined && value < schema.min) {
        errs.add(path, `must be >= ${schema.min}, got ${value}`);
        return undefined;
      }
      if (schema.max !== undefined && value > schema.max) {
        errs.add(path, `must be <= ${schema.max}, got ${value}`);
        return undefined;
      }
      return value;
    case 'duration': {
      if (typeof value !== 'string') {
        errs.add(path, `expected duration string (e.g. "1s", "100ms"), got ${typeName(value)}`);
        return undefined;
      }
      const ms = parseDuration(value);
      if (ms === undefined) {
        errs.add(path, `invalid duration ${JSON.stringify(value)}`);
        return undefined;
      }
      if (ms < 0) {
        errs.add(path, `duration must not be negative, got ${JSON.stringify(value)}`);
        return undefined;
      }
      return value;
    }
    case 'struct':
      return value;
    case 'list': {
      if (!Array.isArray(value)) {
        errs.add(path, `expected list, got ${typeName(value)}`);
        return undefined;
      }
      const out: unknown[] = [];
      value.forEach((item, i) => {
        const p = joinPath(path, i);
        if (item === null || item === undefined) {
          errs.add(p, 'list item must not be null');
          return;
        }
        const v = checkValue(item, schema.of, p, errs);
        if (v !== undefined) out.push(v);
      });
      return out;
    }
    case 'map': {
      if (!isPlainObject(value)) {
        errs.add(path, `expected map, got ${typeName(value)}`);
        return undefined;
      }
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(value)) {
        const p = joinPath(path, k);
        if (item === null || item === undefined) {
          if (schema.of.t === 'string') out[k] = '';
          else errs.add(p, 'map value must not be null');
          continue;
        }
        const v = checkValue(item, schema.of, p, errs);
        if (v !== undefined) out[k] = v;
      }
      return out;
    }
    case 'msg': {
      if (!isPlainObject(value)) {
        errs.add(path, `expected object (${schema.name}), got ${typeName(value)}`);
        return undefined;
      }
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(value)) {
        const field = Object.hasOwn(schema.fields, k) ? schema.fields[k] : undefined;
        const p = joinPath(path, k);
        if (!field) {
          errs.add(p, 'unknown field');
          continue;
        }
        if (item === null || item === undefined) continue;
        const v = checkValue(item, field.schema, p, errs);
        if (v !== undefined) out[k] = v;
      }
      for (const [k, field] of Object.entries(schema.fields)) {
        if (field.required && (value[k] === undefined || value[k] === null)) errs.add(joinPath(path, k), 'required field is missing');
        else if (field.deprecated && value[k] !== undefined && value[k] !== null) errs.warn(joinPath(path, k), `${k} is deprecated`);
      }
      for (const group of schema.oneofs ?? []) {
        const set = group.filter((k) => value[k] !== undefined && value[k] !== null);
        if (set.length > 1) errs.add(path, `only one of ${group.join(', ')} may be set, got ${set.join(' and ')}`);
      }
      return out;
    }
  }
}
