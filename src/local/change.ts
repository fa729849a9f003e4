// The apply/delete flow on a running mesh: find it, validate (print every error, change nothing), write or remove the
// files, print one kubectl-style line per resource, then wait until the control plane pushed and every proxy is SYNCED.
import { readFileSync } from 'node:fs';
import { configKey } from '../api/config.js';
import { formatError } from '../api/errors.js';
import { parseDocuments } from '../api/load.js';
import type { ApplyAction, ChangePlan, DeleteAction } from './config-ops.js';
import { commitApply, commitDelete, planApply, planDelete } from './config-ops.js';
import { findRunDir, readRunningState, runPaths } from './state.js';
import { fetchLastPush, fetchSyncz, waitApplied } from './sync.js';

export interface Output {
  write(s: string): unknown;
}

export interface ChangeOptions {
  op: 'apply' | 'delete';
  paths: string[];
  runDir?: string;
  env: NodeJS.ProcessEnv;
  /** Wait for the push and for every proxy to be SYNCED (default true). */
  wait: boolean;
  timeoutMs: number;
  out: Output;
  err: Output;
}

/** Keys of the resources generated from the mesh file (read back from the registration file). */
function managedKeys(runDir: string): Set<string> {
  const file = runPaths(runDir).registration;
  try {
    return new Set(parseDocuments(readFileSync(file, 'utf8'), file).configs.map((c) => configKey(c.meta)));
  } catch {
    return new Set();
  }
}

/** Runs apply or delete; resolves with the exit status (0 ok, 1 invalid input / not found / not synced in time). */
export async function runChange(o: ChangeOptions): Promise<number> {
  let runDir: string;
  let http: string;
  try {
    runDir = findRunDir(o.runDir, o.env);
    const state = readRunningState(runDir);
    if (!state.discovery) throw new Error(`the mesh in ${runDir} has no control plane address yet (still starting?)`);
    http = state.discovery.http;
  } catch (e) {
    o.err.write(`isthmus ${o.op}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const paths = runPaths(runDir);
  const managed = managedKeys(runDir);
  const plan: ChangePlan<ApplyAction> | ChangePlan<DeleteAction> = o.op === 'apply' ? await planApply(o.paths, paths.applied, managed) : await planDelete(o.paths, paths.applied, managed);
  for (const w of plan.warnings) o.err.write(`Warning: ${formatError(w)}\n`);
  if (plan.errors.length > 0) {
    for (const e of plan.errors) o.err.write(`${formatError(e)}\n`);
    o.err.write(`isthmus ${o.op}: ${plan.errors.length} error${plan.errors.length === 1 ? '' : 's'}; nothing was changed\n`);
    return 1;
  }
  for (const s of plan.skipped) o.err.write(`skipped ${s.kind ?? 'document'}${s.name ? ` ${s.name}` : ''} in ${s.file}: ${s.reason}\n`);

  let before = '';
  try {
    before = (await fetchLastPush(http))?.version ?? '';
  } catch {
    // the wait below reports an unreachable control plane
  }
  if (o.op === 'apply') commitApply(plan as ChangePlan<ApplyAction>);
  else commitDelete(plan as ChangePlan<DeleteAction>);
  let notFound = 0;
  for (const it of plan.items) {
    if (it.action === 'not found') {
      notFound++;
      o.err.write(`Error: ${it.display} not found\n`);
    } else {
      o.out.write(`${it.display} ${it.action}\n`);
    }
  }

  const expect = new Map<string, string | undefined>();
  for (const it of plan.items) {
    if (it.action === 'created' || it.action === 'configured') {
      const c = parseDocuments(it.text ?? '', it.file).configs[0];
      if (c) expect.set(it.key, c.meta.resourceVersion);
    } else if (it.action === 'deleted') {
      expect.set(it.key, undefined);
    }
  }
  if (!o.wait || expect.size === 0) return notFound > 0 ? 1 : 0;
  const t0 = Date.now();
  const r = await waitApplied(http, expect, before, o.timeoutMs);
  if (!r.ok) {
    o.err.write(`isthmus ${o.op}: written, but ${r.stage} within ${o.timeoutMs / 1000} s${r.pending.length > 0 ? `: ${r.pending.join(', ')}` : ''}\n`);
    return 1;
  }
  const n = (await fetchSyncz(http).catch(() => [])).length;
  o.out.write(`${n} prox${n === 1 ? 'y' : 'ies'} SYNCED in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return notFound > 0 ? 1 : 0;
}
