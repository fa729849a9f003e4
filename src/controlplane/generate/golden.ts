// Golden-file assertions for generated xDS: resources are checked for unknown fields, encoded, decoded back (the wire
// view, shown proto3-JSON style like Envoy's config_dump), sorted by name with sorted keys, and compared to src/controlplane/generate/testdata/<name>.golden.json.
// REFRESH_GOLDEN=1 rewrites the files instead of comparing (as Istio's golden tests do with REFRESH_GOLDEN=true).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { encode, fromStruct, unknownFields, wireView } from '../../xds/codec.js';
import { messageType } from '../../xds/proto.js';
import type { Resource } from './types.js';

/** Directory holding the golden files. */
export const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

/** Deep copy with object keys sorted (arrays keep their order), so the JSON text is stable. */
export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

const WRAPPERS = new Set([
  'google.protobuf.DoubleValue', 'google.protobuf.FloatValue', 'google.protobuf.Int64Value', 'google.protobuf.UInt64Value',
  'google.protobuf.Int32Value', 'google.protobuf.UInt32Value', 'google.protobuf.BoolValue', 'google.protobuf.StringValue',
  'google.protobuf.BytesValue',
]);

/**
 * Rewrites a decoded (wire view) message into proto3-JSON style, as Envoy's config_dump shows it: Durations as "1.5s",
 * wrapper types as bare values, Struct as plain JSON. Field names stay snake_case.
 */
export function protoJsonView(type: protobuf.Type, v: unknown): unknown {
  const full = type.fullName.slice(1);
  if (v === null || typeof v !== 'object') return v;
  const rec = v as Record<string, unknown>;
  if (full === 'google.protobuf.Duration') {
    // proto3 JSON: 0, 3, 6 or 9 fractional digits.
    const secs = typeof rec.seconds === 'string' || typeof rec.seconds === 'number' ? rec.seconds : 0;
    const ns = BigInt(secs) * 1_000_000_000n + BigInt(Number(rec.nanos ?? 0));
    const neg = ns < 0n;
    const abs = neg ? -ns : ns;
    let frac = (abs % 1_000_000_000n).toString().padStart(9, '0');
    frac = frac === '000000000' ? '' : frac.endsWith('000000') ? frac.slice(0, 3) : frac.endsWith('000') ? frac.slice(0, 6) : frac;
    return `${neg ? '-' : ''}${abs / 1_000_000_000n}${frac ? '.' + frac : ''}s`;
  }
  if (WRAPPERS.has(full)) return rec.value ?? (full === 'google.protobuf.BoolValue' ? false : 0);
  if (full === 'google.protobuf.Struct') return fromStruct(rec);
  if (full === 'google.protobuf.Any' && typeof rec['@type'] === 'string') {
    const { ['@type']: url, ...rest } = rec;
    return { '@type': url, ...(protoJsonView(messageType(url), rest) as object) };
  }
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(rec)) {
    const f = type.fields[k];
    if (!f) {
      out[k] = val;
      continue;
    }
    f.resolve();
    const rt = f.resolvedType;
    if (!(rt instanceof protobuf.Type) || val === null || val === undefined) out[k] = val;
    else if (f.map) out[k] = Object.fromEntries(Object.entries(val as Record<string, unknown>).map(([mk, mv]) => [mk, protoJsonView(rt, mv)]));
    else if (f.repeated && Array.isArray(val)) out[k] = val.map((item) => protoJsonView(rt, item));
    else out[k] = protoJsonView(rt, val);
  }
  return out;
}

/**
 * Throws unless every resource has no unknown fields and encodes; returns the stable golden text
 * (wire view of each resource, sorted by name, keys sorted, pretty-printed, trailing newline).
 */
export function goldenText(resources: readonly Resource[], typeUrl: string): string {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const r of resources) {
    if (names.has(r.name)) problems.push(`${r.name}: duplicate resource name`);
    names.add(r.name);
    for (const f of unknownFields(typeUrl, r.resource)) problems.push(`${r.name}: ${f}`);
    try {
      encode(typeUrl, r.resource);
    } catch (err) {
      problems.push(`${r.name}: does not encode: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (problems.length > 0) assert.fail(`invalid ${typeUrl} resources:\n  ${problems.join('\n  ')}`);
  const sorted = [...resources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const type = messageType(typeUrl);
  const view = sorted.map((r) => sortKeys(protoJsonView(type, wireView(typeUrl, r.resource))));
  return JSON.stringify(view, null, 2) + '\n';
}

/** A readable diff: the first differing lines with a little context (not a full LCS diff; enough to see what moved). */
export function firstDifference(expected: string, actual: string, maxLines = 12): string {
  const e = expected.split('\n');
  const a = actual.split('\n');
  let i = 0;
  while (i < e.length && i < a.length && e[i] === a[i]) i++;
  if (i === e.length && i === a.length) return '';
  const from = Math.max(0, i - 3);
  const out: string[] = [`first difference at line ${i + 1} (expected ${e.length} lines, got ${a.length}):`];
  for (let j = from; j < i; j++) out.push(`    ${e[j]}`);
  for (let j = i; j < Math.min(e.length, i + maxLines); j++) out.push(`  - ${e[j]}`);
  for (let j = i; j < Math.min(a.length, i + maxLines); j++) out.push(`  + ${a[j]}`);
  return out.join('\n');
}

/**
 * Asserts that `resources` (of xDS type `typeUrl`) match testdata/<name>.golden.json. With REFRESH_GOLDEN=1 the file is
 * (re)written; a missing file fails (so a clean clone never passes vacuously). Every resource must have zero unknown fields and must encode.
 */
export function assertGolden(name: string, resources: readonly Resource[], typeUrl: string): void {
  const text = goldenText(resources, typeUrl);
  const file = join(GOLDEN_DIR, `${name}.golden.json`);
  // Test-only switch, read here rather than in a main.ts: golden files are a test concern.
  const refresh = process.env['REFRESH_GOLDEN'] === '1' || process.env['REFRESH_GOLDEN'] === 'true';
  if (refresh) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return;
  }
  if (!existsSync(file)) assert.fail(`golden ${file} does not exist (run with REFRESH_GOLDEN=1 to create it)`);
  const expected = readFileSync(file, 'utf8');
  if (expected !== text) {
    assert.fail(`golden ${file} differs (run with REFRESH_GOLDEN=1 to accept):\n${firstDifference(expected, text)}`);
  }
}
