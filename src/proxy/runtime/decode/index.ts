// The decoder registry: one decoder per xDS resource type URL, and the resource name each decoded object carries.
import { TypeUrl } from '../../../xds/types.js';
import type { Cluster, Decoded, Listener, LoadAssignment, RouteTable } from '../types.js';
import { decodeCluster } from './cluster.js';
import { decodeClusterLoadAssignment } from './endpoint.js';
import { decodeListener } from './listener.js';
import { decodeRouteConfiguration } from './route.js';
import type { DecodeContext } from './util.js';
import { defaultDecodeContext } from './util.js';

export { decodeCluster } from './cluster.js';
export { decodeClusterLoadAssignment } from './endpoint.js';
export { decodeListener } from './listener.js';
export { decodeRouteConfiguration } from './route.js';
export type { DecodeContext } from './util.js';

/** A decoded resource of any of the four types. */
export type Resource = Listener | RouteTable | Cluster | LoadAssignment;

export interface ResourceDecoder {
  readonly typeUrl: string;
  decode(bytes: Uint8Array): Decoded<Resource>;
  /** The xDS resource name of a decoded object (listener/route/cluster name, CLA cluster_name). */
  nameOf(value: Resource): string;
}

/** Decoders for LDS, RDS, CDS and EDS, keyed by type URL. */
export function decoders(ctx: DecodeContext = defaultDecodeContext): ReadonlyMap<string, ResourceDecoder> {
  const list: ResourceDecoder[] = [
    { typeUrl: TypeUrl.Listener, decode: (b) => decodeListener(b, ctx), nameOf: (v) => (v as Listener).name },
    { typeUrl: TypeUrl.RouteConfiguration, decode: (b) => decodeRouteConfiguration(b, ctx), nameOf: (v) => (v as RouteTable).name },
    { typeUrl: TypeUrl.Cluster, decode: (b) => decodeCluster(b, ctx), nameOf: (v) => (v as Cluster).name },
    { typeUrl: TypeUrl.ClusterLoadAssignment, decode: (b) => decodeClusterLoadAssignment(b), nameOf: (v) => (v as LoadAssignment).clusterName },
  ];
  return new Map(list.map((d) => [d.typeUrl, d]));
}
