// Test helpers around the generators: resources for a proxy as Resource lists (for assertGolden) and lookups.
import { listenerGenerator, routeNamesOf } from '../../src/controlplane/generate/listener/index.js';
import { routeGenerator } from '../../src/controlplane/generate/route/index.js';
import type { Resource } from '../../src/controlplane/generate/types.js';
import type { Proxy, PushContext } from '../../src/controlplane/model/types.js';

type Obj = Record<string, unknown>;


export function lds(push: PushContext, proxy: Proxy, names?: readonly string[]): Resource[] {
  return listenerGenerator.generate(proxy, push, names ? { names } : {});
}

/** RDS for the given names, or for every name the proxy's listeners refer to. */
export function rds(push: PushContext, proxy: Proxy, names?: readonly string[]): Resource[] {
  return routeGenerator.generate(proxy, push, { names: names ?? routeNamesOf(lds(push, proxy).map((r) => r.resource)) });
}

export function byName(resources: readonly Resource[], name: string): Obj {
  const r = resources.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name} among ${resources.map((x) => x.name).join(', ')}`);
  return r.resource;
}

export function vhost(rc: Obj, name: string): Obj {
  const v = ((rc.virtual_hosts as Obj[] | undefined) ?? []).find((x) => x.name === name);
  if (!v) throw new Error(`no virtual host ${name}`);
  return v;
}
