// Builds a proxy's full xDS snapshot (LDS, RDS for every name its listeners use, CDS) with the real generators, so
// tests can simulate traffic: `simulateProxy(push, proxy, {port: 9080, host: 'reviews'})`.
import { clusterGenerator } from '../../src/controlplane/generate/cluster/index.js';
import { listenerGenerator, routeNamesOf } from '../../src/controlplane/generate/listener/index.js';
import { routeGenerator } from '../../src/controlplane/generate/route/index.js';
import type { Proxy, PushContext } from '../../src/controlplane/model/types.js';
import type { SimRequest, SimResult, XdsSnapshot } from './simulate.js';
import { simulate } from './simulate.js';

/** LDS + RDS + CDS for a sidecar or router; gRPC nodes need `listenerNames` (their LDS is by name). */
export function buildSnapshot(push: PushContext, proxy: Proxy, listenerNames?: readonly string[]): XdsSnapshot {
  const listeners = listenerGenerator.generate(proxy, push, listenerNames ? { names: listenerNames } : {}).map((r) => r.resource);
  const routes = routeGenerator.generate(proxy, push, { names: routeNamesOf(listeners) }).map((r) => r.resource);
  const clusters = clusterGenerator.generate(proxy, push, {}).map((r) => r.resource);
  return { listeners, routes, clusters };
}

export function simulateProxy(push: PushContext, proxy: Proxy, req: SimRequest): SimResult {
  return simulate(buildSnapshot(push, proxy, req.listenerName ? [req.listenerName] : undefined), req);
}
