// Turns store and registry change events into PushRequests for the Debouncer (what main wires together).
import type { ConfigEvent } from '../configstore/store.js';
import type { PushRequest } from '../generate/types.js';
import type { RegistryEvent } from '../registry/registry.js';

/**
 * A config change → full push. ServiceEntry and WorkloadEntry changes return undefined: the registry reports them
 * (full for services, EDS-only for endpoints), so they are not pushed twice.
 */
export function pushRequestForConfig(ev: ConfigEvent, now: number): PushRequest | undefined {
  if (ev.kind === 'ServiceEntry' || ev.kind === 'WorkloadEntry') return undefined;
  return { full: true, configsUpdated: new Set([ev.key]), servicesUpdated: new Set(), reasons: ['config'], start: now };
}

/** A registry change → full push when services changed, else an EDS push of the changed hostnames (none: undefined). */
export function pushRequestForRegistry(ev: RegistryEvent, now: number): PushRequest | undefined {
  if (!ev.full && ev.servicesUpdated.size === 0) return undefined;
  return {
    full: ev.full,
    configsUpdated: ev.configsUpdated,
    servicesUpdated: ev.servicesUpdated,
    reasons: [ev.full ? 'config' : 'endpoint'],
    start: now,
  };
}
