// Reads the control plane's debug endpoints (/debug/syncz, /debug/configz, /debug/push_status) and waits for states:
// every expected proxy connected and SYNCED, a config change picked up and pushed.
import { httpGetJson } from './http.js';
import { isObj } from './fields.js';

export type SyncStatus = 'SYNCED' | 'STALE' | 'NOT_SENT';

export interface SyncType {
  status: SyncStatus;
  sent: string;
  acked: string;
  nack?: { version: string; message: string };
}

export interface SyncEntry {
  proxy: string;
  istioVersion: string;
  /** Short type (cds, lds, eds, rds, ...) → state. */
  types: Record<string, SyncType>;
}

export interface PushInfo {
  version: string;
  at: string;
  configsUpdated: string[];
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export async function fetchSyncz(http: string): Promise<SyncEntry[]> {
  const raw = await httpGetJson(`http://${http}/debug/syncz`);
  if (!Array.isArray(raw)) throw new Error('unexpected /debug/syncz answer');
  return raw.filter(isObj).map((e) => {
    const types: Record<string, SyncType> = {};
    if (isObj(e.types)) {
      for (const [t, v] of Object.entries(e.types)) {
        if (!isObj(v)) continue;
        const s = str(v.status);
        const st: SyncType = { status: s === 'SYNCED' || s === 'STALE' ? s : 'NOT_SENT', sent: str(v.sent), acked: str(v.acked) };
        if (isObj(v.nack)) st.nack = { version: str(v.nack.version), message: str(v.nack.message) };
        types[t] = st;
      }
    }
    return { proxy: str(e.proxy), istioVersion: str(e.istio_version), types };
  });
}

/** `Kind/namespace/name` → resourceVersion of every config the control plane holds. */
export async function fetchConfigVersions(http: string): Promise<Map<string, string>> {
  const raw = await httpGetJson(`http://${http}/debug/configz`, 5000);
  const out = new Map<string, string>();
  if (!Array.isArray(raw)) return out;
  for (const c of raw) {
    if (!isObj(c) || !isObj(c.meta)) continue;
    out.set(`${str(c.meta.kind)}/${str(c.meta.namespace)}/${str(c.meta.name)}`, str(c.meta.resourceVersion));
  }
  return out;
}

export async function fetchLastPush(http: string): Promise<PushInfo | undefined> {
  const raw = await httpGetJson(`http://${http}/debug/push_status`);
  if (!isObj(raw) || !isObj(raw.lastPush)) return undefined;
  const p = raw.lastPush;
  return { version: str(p.version), at: str(p.at), configsUpdated: Array.isArray(p.configsUpdated) ? p.configsUpdated.map(str) : [] };
}

/** A proxy is in sync when it watches clusters and listeners and every watched type is SYNCED (no NACK pending). */
export function inSync(e: SyncEntry): boolean {
  if (!e.types.cds || !e.types.lds) return false;
  return Object.values(e.types).every((t) => t.status === 'SYNCED' && !t.nack);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Stops waiting early (e.g. the mesh is shutting down). */
  signal?: AbortSignal;
}

/**
 * Polls `check` until it returns true; resolves false on timeout or abort. Errors thrown by `check` (e.g. the debug
 * endpoint not answering yet) count as "not yet".
 */
export async function waitFor(check: () => Promise<boolean>, o: WaitOptions): Promise<boolean> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    if (o.signal?.aborted) return false;
    try {
      if (await check()) return true;
    } catch {
      // not yet
    }
    if (Date.now() >= deadline) return false;
    await sleep(o.intervalMs ?? 100);
  }
}

/** Proxies in `expected` (node ids) that are not connected or not in sync; every connected one when `expected` is omitted. */
export function unsynced(entries: readonly SyncEntry[], expected?: readonly string[]): string[] {
  const byId = new Map(entries.map((e) => [e.proxy, e]));
  const ids = expected ?? entries.map((e) => e.proxy);
  return ids.filter((id) => {
    const e = byId.get(id);
    return !e || !inSync(e);
  });
}

/**
 * After a config change was written: waits until the control plane holds it (`expect`: key → resourceVersion, or
 * undefined for "deleted"), until a push that includes it happened, and until every connected proxy is SYNCED on two
 * polls in a row (a push is queued per proxy, so one poll can look synced before the proxy's turn came).
 */
export async function waitApplied(http: string, expect: ReadonlyMap<string, string | undefined>, pushBefore: string, timeoutMs: number): Promise<{ ok: boolean; stage: string; pending: string[] }> {
  const deadline = Date.now() + timeoutMs;
  const left = (): number => Math.max(0, deadline - Date.now());
  let missing: string[] = [];
  const stored = await waitFor(async () => {
    const have = await fetchConfigVersions(http);
    missing = [...expect].filter(([k, rv]) => (rv === undefined ? have.has(k) : have.get(k) !== rv)).map(([k]) => k);
    return missing.length === 0;
  }, { timeoutMs: left() });
  if (!stored) return { ok: false, stage: 'the control plane did not load the change', pending: missing };
  const storedAt = Date.now();
  const keys = new Set(expect.keys());
  const pushed = await waitFor(async () => {
    const p = await fetchLastPush(http);
    if (!p || p.version === pushBefore) return false;
    return p.configsUpdated.some((k) => keys.has(k)) || Date.parse(p.at) >= storedAt || Date.now() - storedAt > 2000;
  }, { timeoutMs: left() });
  if (!pushed) return { ok: false, stage: 'no push followed the change', pending: [] };
  let streak = 0;
  let pending: string[] = [];
  const synced = await waitFor(async () => {
    pending = unsynced(await fetchSyncz(http));
    streak = pending.length === 0 ? streak + 1 : 0;
    return streak >= 2;
  }, { timeoutMs: left(), intervalMs: 150 });
  return synced ? { ok: true, stage: 'synced', pending: [] } : { ok: false, stage: 'proxies did not acknowledge the push', pending };
}
