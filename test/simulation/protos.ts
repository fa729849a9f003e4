// TEMPORARY (test-only): loads the retry extension protos routes reference (previous_hosts, previous_priorities) into
// the shared protobufjs root until src/xds/proto.ts lists them in PROTO_FILES; without them `@type` is lost on encode.
import { protoRoot } from '../../src/xds/proto.js';

const EXTRA = [
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
  'envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config.proto',
];

export function ensureRetryProtos(): void {
  const root = protoRoot();
  if (root.lookup('envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate')) return;
  root.loadSync(EXTRA, { keepCase: true });
  root.resolveAll();
}
