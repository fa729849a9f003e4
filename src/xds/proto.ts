// Loads Envoy/xDS message types at run time from the .proto files a registry package ships
// (@grpc/grpc-js-xds/deps); nothing here is hand-written protobuf.
import './protobuf-load.js';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs/light.js';
import { compactJson, rootFromJson } from './proto-compact.js';

const require = createRequire(import.meta.url);

/** The .proto files (relative to the include dirs) that the mesh encodes and decodes. */
export const PROTO_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/config/core/v3/base.proto',
  'envoy/config/rbac/v3/rbac.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/load_balancing_policies/round_robin/v3/round_robin.proto',
  'envoy/extensions/load_balancing_policies/least_request/v3/least_request.proto',
  'envoy/extensions/load_balancing_policies/random/v3/random.proto',
  'envoy/extensions/load_balancing_policies/ring_hash/v3/ring_hash.proto',
  'envoy/extensions/load_balancing_policies/maglev/v3/maglev.proto',
  'envoy/extensions/load_balancing_policies/wrr_locality/v3/wrr_locality.proto',
  'envoy/extensions/load_balancing_policies/pick_first/v3/pick_first.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto',
  'udpa/type/v1/typed_struct.proto',
  'xds/type/v3/typed_struct.proto',
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
  'envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config.proto',
  'google/protobuf/struct.proto',
  'google/protobuf/wrappers.proto',
  'google/protobuf/duration.proto',
  'google/protobuf/any.proto',
  'google/protobuf/empty.proto',
  'google/rpc/status.proto',
];

/** Include directories inside the registry package that ships the protos. */
export function protoIncludeDirs(): string[] {
  const pkg = dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  const deps = join(pkg, 'deps');
  const protobufjsDir = dirname(require.resolve('protobufjs/package.json'));
  return [
    join(deps, 'envoy-api'),
    join(deps, 'xds'),
    join(deps, 'googleapis'),
    join(deps, 'protoc-gen-validate'),
    join(protobufjsDir),
  ];
}

/** Bump when compactJson's output changes, so that no process loads a cache another version wrote. */
const CACHE_FORMAT = 1;

let cached: protobuf.Root | undefined;

/** The shared protobufjs Root with every mesh message type; field names keep their proto (snake_case) spelling. */
export function protoRoot(): protobuf.Root {
  cached ??= loadProtoRoot(defaultCacheDir());
  return cached;
}

/**
 * The mesh's types (see proto-compact.ts): from the compact JSON cached in `cacheDir` for these .proto files and
 * package versions, else parsed from the .proto files, and then cached. Without a usable cache dir, parsed every time.
 * Each proxy of a local mesh loads the cache its control plane wrote, so it never holds the garbage of parsing.
 */
export function loadProtoRoot(cacheDir: string | undefined): protobuf.Root {
  const file = cacheDir === undefined ? undefined : join(cacheDir, `${CACHE_PREFIX}${cacheKey()}.json`);
  if (file !== undefined && existsSync(file)) {
    try {
      return rootFromJson(readFileSync(file, 'utf8'));
    } catch {
      // A damaged cache: parse, and write it anew.
    }
  }
  const text = compactJson(parseProtoFiles(), PROTO_FILES);
  if (cacheDir !== undefined && file !== undefined) writeCache(cacheDir, file, text);
  return rootFromJson(text);
}

const CACHE_PREFIX = 'xds-protos-';

/** `node_modules/.cache/isthmus` of the node_modules that holds protobufjs (the usual place for tools' caches). */
function defaultCacheDir(): string {
  return join(dirname(dirname(require.resolve('protobufjs/package.json'))), '.cache', 'isthmus');
}

function cacheKey(): string {
  const version = (pkg: string): unknown => (require(`${pkg}/package.json`) as { version?: unknown }).version;
  const key = JSON.stringify([CACHE_FORMAT, PROTO_FILES, version('@grpc/grpc-js-xds'), version('protobufjs')]);
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** Best effort (a read-only install just parses each time): atomic rename, and older caches removed. */
function writeCache(dir: string, file: string, text: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
    for (const f of readdirSync(dir)) if (f.startsWith(CACHE_PREFIX) && f.endsWith('.json') && join(dir, f) !== file) rmSync(join(dir, f), { force: true });
  } catch {
    // Not writable: fine.
  }
}

function parseProtoFiles(): protobuf.Root {
  // The full build adds the .proto parser to the light one every module here shares (protobuf-load.ts).
  require('protobufjs');
  const includes = protoIncludeDirs();
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string => {
    for (const dir of includes) {
      const p = join(dir, target);
      if (existsSync(p)) return p;
    }
    return target;
  };
  root.loadSync(PROTO_FILES, { keepCase: true });
  root.resolveAll();
  return root;
}

/** Looks up a message type by its full name (no leading dot) or type URL. */
export function messageType(nameOrUrl: string): protobuf.Type {
  const name = nameOrUrl.slice(nameOrUrl.lastIndexOf('/') + 1);
  return protoRoot().lookupType(name);
}
