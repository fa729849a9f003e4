// telemetry.istio.io types (v1/v1alpha1), field names exactly as in Istio's YAML.
// https://istio.io/latest/docs/reference/config/telemetry/
import type { PolicyTargetReference } from './networking.js';
import type { WorkloadSelectorMatch } from './security.js';

export type WorkloadMode = 'CLIENT_AND_SERVER' | 'CLIENT' | 'SERVER';

export interface ProviderRef {
  name: string;
}

export interface TracingSelector {
  mode?: WorkloadMode;
}

export interface CustomTag {
  literal?: { value: string };
  environment?: { name: string; defaultValue?: string };
  header?: { name: string; defaultValue?: string };
}

export interface Tracing {
  match?: TracingSelector;
  providers?: ProviderRef[];
  /** 0..100 (a google.protobuf.DoubleValue). */
  randomSamplingPercentage?: number;
  disableSpanReporting?: boolean;
  customTags?: Record<string, CustomTag>;
  useRequestIdForTraceSampling?: boolean;
  enableIstioTags?: boolean;
}

export type IstioMetric =
  | 'ALL_METRICS' | 'REQUEST_COUNT' | 'REQUEST_DURATION' | 'REQUEST_SIZE' | 'RESPONSE_SIZE'
  | 'TCP_OPENED_CONNECTIONS' | 'TCP_CLOSED_CONNECTIONS' | 'TCP_SENT_BYTES' | 'TCP_RECEIVED_BYTES'
  | 'GRPC_REQUEST_MESSAGES' | 'GRPC_RESPONSE_MESSAGES';

export interface MetricSelector {
  metric?: IstioMetric;
  customMetric?: string;
  mode?: WorkloadMode;
}

export interface TagOverride {
  operation?: 'UPSERT' | 'REMOVE';
  /** A CEL expression (required for UPSERT). */
  value?: string;
}

export interface MetricsOverrides {
  match?: MetricSelector;
  disabled?: boolean;
  tagOverrides?: Record<string, TagOverride>;
}

export interface Metrics {
  providers?: ProviderRef[];
  overrides?: MetricsOverrides[];
  reportingInterval?: string;
}

export interface AccessLogging {
  match?: TracingSelector;
  providers?: ProviderRef[];
  disabled?: boolean;
  filter?: { expression?: string };
}

export interface Telemetry {
  selector?: WorkloadSelectorMatch;
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  tracing?: Tracing[];
  metrics?: Metrics[];
  accessLogging?: AccessLogging[];
}
