// EDS: ClusterLoadAssignment bytes → LoadAssignment (localities by priority with weights, endpoints with health and
// weight). Also decodes the inline load_assignment of STATIC and DNS clusters.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/endpoint/v3/endpoint.proto
import { TypeUrl } from '../../../xds/types.js';
import type { Decoded, Endpoint, LoadAssignment, LocalityEndpoints } from '../types.js';
import { socketAddress } from './listener.js';
import type { Rec } from './util.js';
import { Problems, at, decodeView, enumStr, filterMetadata, list, msg, num, str, wrappedNum } from './util.js';

/** policy.overprovisioning_factor default (percent). */
export const DEFAULT_OVERPROVISIONING_FACTOR = 140;

const HEALTH = new Set<Endpoint['health']>(['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED']);

function locality(l: Rec | undefined): string {
  if (!l) return '';
  const parts = [str(l, 'region') ?? '', str(l, 'zone') ?? '', str(l, 'sub_zone') ?? ''];
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.join('/');
}

function endpoint(e: Rec, path: string, p: Problems, allowHostname: boolean): Endpoint | undefined {
  const ep = msg(e, 'endpoint');
  if (!ep) {
    p.add(e.endpoint_name !== undefined ? at(path, 'endpoint_name') : at(path, 'endpoint'), e.endpoint_name !== undefined ? 'named endpoints (LEDS) are not supported' : 'endpoint is required');
    return undefined;
  }
  const addr = socketAddress(msg(ep, 'address'), at(path, 'endpoint.address'), p, allowHostname);
  if (!addr) return undefined;
  const health = enumStr(e, 'health_status', 'UNKNOWN') as Endpoint['health'];
  if (!HEALTH.has(health)) p.add(at(path, 'health_status'), `unknown health status ${health}`);
  const weight = wrappedNum(e, 'load_balancing_weight') ?? 1;
  if (weight < 1) p.add(at(path, 'load_balancing_weight'), 'must be at least 1');
  const out: Endpoint = { address: addr.address, port: addr.port, weight, health };
  const hostname = str(ep, 'hostname');
  if (hostname) out.hostname = hostname;
  const md = filterMetadata(e);
  if (md) out.metadata = md;
  return out;
}

/** A ClusterLoadAssignment object → LoadAssignment. EDS requires IP addresses; DNS clusters may use hostnames. */
export function loadAssignmentFromObject(o: Rec, path: string, p: Problems, opts: { allowHostname: boolean; clusterName?: string }): LoadAssignment {
  const localities: LocalityEndpoints[] = [];
  list(o, 'endpoints').forEach((l, i) => {
    const lp = `${at(path, 'endpoints')}[${i}]`;
    const endpoints: Endpoint[] = [];
    list(l, 'lb_endpoints').forEach((e, j) => {
      const ep = endpoint(e, `${at(lp, 'lb_endpoints')}[${j}]`, p, opts.allowHostname);
      if (ep) endpoints.push(ep);
    });
    if (list(l, 'leds_cluster_locality_config').length > 0 || msg(l, 'leds_cluster_locality_config')) p.add(at(lp, 'leds_cluster_locality_config'), 'LEDS is not supported');
    const weight = wrappedNum(l, 'load_balancing_weight') ?? 1;
    if (weight < 1) p.add(at(lp, 'load_balancing_weight'), 'must be at least 1');
    localities.push({ locality: locality(msg(l, 'locality')), priority: num(l, 'priority') ?? 0, weight, endpoints });
  });
  const policy = msg(o, 'policy');
  const factor = policy ? (wrappedNum(policy, 'overprovisioning_factor') ?? DEFAULT_OVERPROVISIONING_FACTOR) : DEFAULT_OVERPROVISIONING_FACTOR;
  if (factor <= 0) p.add(at(path, 'policy.overprovisioning_factor'), 'must be greater than 0');
  return { clusterName: str(o, 'cluster_name') || opts.clusterName || '', localities, overprovisioningFactor: factor };
}

/** EDS: ClusterLoadAssignment bytes → LoadAssignment, or every problem as `endpoints <cluster>: <path>: <reason>`. */
export function decodeClusterLoadAssignment(bytes: Uint8Array): Decoded<LoadAssignment> {
  const view = decodeView(TypeUrl.ClusterLoadAssignment, bytes);
  if ('error' in view) return { ok: false, errors: [`endpoints: ${view.error}`] };
  const name = str(view.obj, 'cluster_name') ?? '';
  const p = new Problems(`endpoints ${name || '(unnamed)'}`);
  if (!name) p.add('cluster_name', 'cluster_name is required');
  const la = loadAssignmentFromObject(view.obj, '', p, { allowHostname: false });
  return p.ok ? { ok: true, value: la } : { ok: false, errors: p.list };
}
