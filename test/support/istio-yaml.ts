// Builds Istio networking YAML (ServiceEntry, WorkloadEntry, DestinationRule, VirtualService) for end-to-end tests
// and writes it into a config directory the way a user would.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';

export type Doc = Record<string, unknown>;

const NET = 'networking.istio.io/v1';

function meta(name: string, namespace: string): Doc {
  return { name, namespace };
}

/** A mesh-internal STATIC ServiceEntry with one GRPC port, selecting WorkloadEntries by `app`. */
export function serviceEntry(o: { name: string; namespace: string; host: string; port: number; app: string }): Doc {
  return {
    apiVersion: NET,
    kind: 'ServiceEntry',
    metadata: meta(o.name, o.namespace),
    spec: {
      hosts: [o.host],
      ports: [{ number: o.port, name: 'grpc', protocol: 'GRPC' }],
      resolution: 'STATIC',
      location: 'MESH_INTERNAL',
      workloadSelector: { labels: { app: o.app } },
    },
  };
}

/** A WorkloadEntry for one gRPC server: its address, its real port under the ServiceEntry's port name, its labels. */
export function workloadEntry(o: { name: string; namespace: string; address: string; port: number; labels: Record<string, string> }): Doc {
  return {
    apiVersion: NET,
    kind: 'WorkloadEntry',
    metadata: meta(o.name, o.namespace),
    spec: { address: o.address, ports: { grpc: o.port }, labels: o.labels },
  };
}

export interface Subset {
  name: string;
  labels: Record<string, string>;
  trafficPolicy?: Doc;
}

export function destinationRule(o: { name: string; namespace: string; host: string; subsets?: Subset[]; trafficPolicy?: Doc }): Doc {
  const spec: Doc = { host: o.host };
  if (o.trafficPolicy) spec['trafficPolicy'] = o.trafficPolicy;
  if (o.subsets) spec['subsets'] = o.subsets;
  return { apiVersion: NET, kind: 'DestinationRule', metadata: meta(o.name, o.namespace), spec };
}

/** `http` is the VirtualService's list of HTTPRoute objects, exactly as in Istio YAML. */
export function virtualService(o: { name: string; namespace: string; hosts: string[]; http: Doc[] }): Doc {
  return { apiVersion: NET, kind: 'VirtualService', metadata: meta(o.name, o.namespace), spec: { hosts: o.hosts, http: o.http } };
}

/** A route destination: host + subset (+ optional weight), as in VirtualService `route:` entries. */
export function dest(host: string, subset: string, weight?: number): Doc {
  const d: Doc = { destination: { host, subset } };
  if (weight !== undefined) d['weight'] = weight;
  return d;
}

/** Multi-document YAML text. */
export function toYaml(docs: Doc[]): string {
  return docs.map((d) => stringify(d)).join('---\n');
}

/** Writes `docs` as one multi-document YAML file at `dir/file` (creating sub-directories). Returns the path. */
export function writeYaml(dir: string, file: string, docs: Doc[]): string {
  const p = join(dir, file);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, toYaml(docs));
  return p;
}
