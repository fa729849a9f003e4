// Istio's config ordering: by creation time, then namespace/name (configs without a timestamp sort first, by name).
import type { Config } from '../../api/config.js';

export function byCreation(a: Config, b: Config): number {
  const ta = a.meta.creationTimestamp ?? '';
  const tb = b.meta.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (a.meta.namespace !== b.meta.namespace) return a.meta.namespace < b.meta.namespace ? -1 : 1;
  return a.meta.name < b.meta.name ? -1 : a.meta.name > b.meta.name ? 1 : 0;
}

/** A stable string for a label map (sorted keys), for memo keys. */
export function labelsKey(labels: Record<string, string> | undefined): string {
  if (!labels) return '';
  const keys = Object.keys(labels).sort();
  let s = '';
  for (const k of keys) s += `${k}=${labels[k]},`;
  return s;
}
