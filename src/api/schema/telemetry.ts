// Schema of telemetry.istio.io Telemetry (https://istio.io/latest/docs/reference/config/telemetry/).
import { bool, dur, list, map, matchLabelsSelector, msg, num, oneOfStr, policyTargetRef, required, str } from './dsl.js';

const mode = oneOfStr('CLIENT_AND_SERVER', 'CLIENT', 'SERVER');
const selector = msg('WorkloadModeSelector', { mode });
const providers = list(msg('ProviderRef', { name: required(str) }));

export const ISTIO_METRICS = [
  'ALL_METRICS', 'REQUEST_COUNT', 'REQUEST_DURATION', 'REQUEST_SIZE', 'RESPONSE_SIZE', 'TCP_OPENED_CONNECTIONS',
  'TCP_CLOSED_CONNECTIONS', 'TCP_SENT_BYTES', 'TCP_RECEIVED_BYTES', 'GRPC_REQUEST_MESSAGES', 'GRPC_RESPONSE_MESSAGES',
] as const;

const customTag = msg('CustomTag', {
  literal: msg('Literal', { value: required(str) }),
  environment: msg('Environment', { name: required(str), defaultValue: str }),
  header: msg('RequestHeader', { name: required(str), defaultValue: str }),
}, [['literal', 'environment', 'header']]);

const tracing = msg('Tracing', {
  match: selector,
  providers,
  randomSamplingPercentage: num,
  disableSpanReporting: bool,
  customTags: map(customTag),
  useRequestIdForTraceSampling: bool,
  enableIstioTags: bool,
});

const metrics = msg('Metrics', {
  providers,
  overrides: list(
    msg('MetricsOverrides', {
      match: msg('MetricSelector', { metric: oneOfStr(...ISTIO_METRICS), customMetric: str, mode }, [['metric', 'customMetric']]),
      disabled: bool,
      tagOverrides: map(msg('TagOverride', { operation: oneOfStr('UPSERT', 'REMOVE'), value: str })),
    }),
  ),
  reportingInterval: dur,
});

const accessLogging = msg('AccessLogging', {
  match: selector,
  providers,
  disabled: bool,
  filter: msg('Filter', { expression: str }),
});

export const telemetrySchema = msg('Telemetry', {
  selector: matchLabelsSelector,
  targetRef: policyTargetRef,
  targetRefs: list(policyTargetRef),
  tracing: list(tracing),
  metrics: list(metrics),
  accessLogging: list(accessLogging),
});
