// Istio YAML builders for mini-mesh tests (plain objects in Istio's own field names): HTTP ServiceEntries,
// WorkloadEntries, Sidecars (captureMode NONE egress/ingress bound to a workload's loopback IP), VirtualServices,
// DestinationRules, EnvoyFilters (access log, local rate limit).
import type { Doc } from '../../support/istio-yaml.js';

export type { Doc } from '../../support/istio-yaml.js';

const NET = 'networking.istio.io/v1';
export const NAMESPACE = 'default';

function res(kind: string, name: string, spec: Doc, apiVersion = NET): Doc {
  return { apiVersion, kind, metadata: { name, namespace: NAMESPACE }, spec };
}

/** A mesh-internal STATIC ServiceEntry for `host` with one port (HTTP by default), selecting WorkloadEntries by app. */
export function serviceEntry(o: { name: string; host: string; port: number; app: string; protocol?: string; portName?: string; addresses?: string[] }): Doc {
  const spec: Doc = {
    hosts: [o.host],
    ports: [{ number: o.port, name: o.portName ?? 'http', protocol: o.protocol ?? 'HTTP' }],
    resolution: 'STATIC',
    location: 'MESH_INTERNAL',
    workloadSelector: { labels: { app: o.app } },
  };
  if (o.addresses) spec.addresses = o.addresses;
  return res('ServiceEntry', o.name, spec);
}

/**
 * A WorkloadEntry at `address`; `port` is the workload's real port for the ServiceEntry port named `portName`
 * (default `http`); `locality` `region/zone/subzone`.
 */
export function workloadEntry(o: { name: string; address: string; port?: number; portName?: string; labels: Record<string, string>; locality?: string; weight?: number }): Doc {
  const spec: Doc = { address: o.address, labels: o.labels };
  if (o.port !== undefined) spec.ports = { [o.portName ?? 'http']: o.port };
  if (o.locality) spec.locality = o.locality;
  if (o.weight !== undefined) spec.weight = o.weight;
  return res('WorkloadEntry', o.name, spec);
}

export interface SidecarEgress {
  port: number;
  bind: string;
  hosts: string[];
  protocol?: string;
  name?: string;
}

export interface SidecarIngress {
  /** Port the sidecar listens on (bound to `bind`). */
  port: number;
  bind: string;
  /** Where the app listens, e.g. `127.0.0.1:8080` or `0.0.0.0:8080` (= the workload's own IP). */
  defaultEndpoint: string;
  protocol?: string;
  name?: string;
}

/** A Sidecar selecting `labels`, with captureMode NONE egress/ingress listeners bound to explicit addresses. */
export function sidecar(o: { name: string; labels: Record<string, string>; egress?: SidecarEgress[]; ingress?: SidecarIngress[] }): Doc {
  const spec: Doc = { workloadSelector: { labels: o.labels } };
  if (o.ingress && o.ingress.length > 0) {
    spec.ingress = o.ingress.map((i) => ({
      port: { number: i.port, protocol: i.protocol ?? 'HTTP', name: i.name ?? `http-in-${i.port}` },
      bind: i.bind,
      defaultEndpoint: i.defaultEndpoint,
      captureMode: 'NONE',
    }));
  }
  spec.egress = (o.egress ?? []).map((e) => ({
    port: { number: e.port, protocol: e.protocol ?? 'HTTP', name: e.name ?? `http-out-${e.port}` },
    bind: e.bind,
    captureMode: 'NONE',
    hosts: e.hosts,
  }));
  if ((o.egress ?? []).length === 0) spec.egress = [{ hosts: ['~/*'] }];
  return res('Sidecar', o.name, spec);
}

/** `http` is the VirtualService's list of HTTPRoute objects, exactly as in Istio YAML. */
export function virtualService(o: { name: string; hosts: string[]; http: Doc[] }): Doc {
  return res('VirtualService', o.name, { hosts: o.hosts, http: o.http });
}

export function destinationRule(o: { name: string; host: string; trafficPolicy?: Doc; subsets?: Doc[] }): Doc {
  const spec: Doc = { host: o.host };
  if (o.trafficPolicy) spec.trafficPolicy = o.trafficPolicy;
  if (o.subsets) spec.subsets = o.subsets;
  return res('DestinationRule', o.name, spec);
}

/** A route destination: `{destination: {host, subset?, port?}, weight?}`. */
export function dest(host: string, o: { subset?: string; weight?: number; port?: number } = {}): Doc {
  const d: Doc = { host };
  if (o.subset) d.subset = o.subset;
  if (o.port !== undefined) d.port = { number: o.port };
  const out: Doc = { destination: d };
  if (o.weight !== undefined) out.weight = o.weight;
  return out;
}

export function envoyFilter(o: { name: string; workloadLabels?: Record<string, string>; configPatches: Doc[] }): Doc {
  const spec: Doc = { configPatches: o.configPatches };
  if (o.workloadLabels) spec.workloadSelector = { labels: o.workloadLabels };
  return res('EnvoyFilter', o.name, spec, 'networking.istio.io/v1alpha3');
}

const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/**
 * Access logs on every HTTP connection manager (Istio's default TEXT format to /dev/stdout), the way users turn them
 * on with an EnvoyFilter (the control plane has no meshConfig.accessLogFile).
 */
export function accessLogFilter(name = 'access-log'): Doc {
  return envoyFilter({
    name,
    configPatches: [
      {
        applyTo: 'NETWORK_FILTER',
        match: { context: 'ANY', listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager' } } } },
        patch: {
          operation: 'MERGE',
          value: {
            typed_config: {
              '@type': HCM_TYPE,
              access_log: [{ name: 'envoy.access_loggers.file', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path: '/dev/stdout' } }],
            },
          },
        },
      },
    ],
  });
}

export interface TokenBucket {
  max_tokens: number;
  tokens_per_fill: number;
  /** e.g. '60s' */
  fill_interval: string;
}

/** The envoy.filters.http.local_ratelimit typed_config Istio's docs use (enabled and enforced for 100%). */
export function localRateLimitConfig(statPrefix: string, bucket?: TokenBucket): Doc {
  const cfg: Doc = {
    '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct',
    type_url: 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
    value: {
      stat_prefix: statPrefix,
      filter_enabled: { runtime_key: 'local_rate_limit_enabled', default_value: { numerator: 100, denominator: 'HUNDRED' } },
      filter_enforced: { runtime_key: 'local_rate_limit_enforced', default_value: { numerator: 100, denominator: 'HUNDRED' } },
      response_headers_to_add: [{ append_action: 'OVERWRITE_IF_EXISTS_OR_ADD', header: { key: 'x-local-rate-limit', value: 'true' } }],
    },
  };
  if (bucket) (cfg.value as Doc).token_bucket = bucket;
  return cfg;
}
