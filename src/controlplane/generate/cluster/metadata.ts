// Cluster metadata as Istio sets it: filter_metadata.istio {services, default_original_port, config, subset, external}.
import { toStruct } from '../../../xds/codec.js';
import type { Service } from '../../model/types.js';
import type { Obj } from './util.js';

/** Istio's buildServiceMetadata; a ServiceEntry service's `name` is its hostname (serviceentry conversion). */
export function serviceMetadata(svc: Service): Obj {
  return { host: svc.hostname, name: svc.hostname, namespace: svc.namespace };
}

export interface IstioClusterMetadata {
  services?: Obj[];
  default_original_port?: number;
  config?: string;
  subset?: string;
  external?: boolean;
}

export function setIstioMetadata(c: Obj, md: IstioClusterMetadata): void {
  const fields: Obj = {};
  for (const [k, v] of Object.entries(md)) if (v !== undefined) fields[k] = v;
  if (Object.keys(fields).length === 0) return;
  c.metadata = { filter_metadata: { istio: toStruct(fields) } };
}
