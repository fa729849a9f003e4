// Command line and environment of the Bookinfo entry point, parsed into one plain settings object.
import { parseBind } from './common/http.js';
import type { BindAddress } from './common/http.js';
import { targetsFromEnv } from './common/targets.js';
import type { UpstreamTarget } from './common/targets.js';

export const SERVICES = ['productpage', 'details', 'reviews', 'ratings'] as const;
export type ServiceName = (typeof SERVICES)[number];

export const USAGE = `usage: node --import tsx samples/bookinfo/src/main.ts <productpage|details|reviews|ratings> [--version v1|v2|v3] [--bind HOST:PORT]

environment:
  BIND              listen address HOST:PORT (default 127.0.0.1:9080); --bind wins
  SERVICE_VERSION   version label (default v1); --version wins; reviews: v1 no stars, v2 black, v3 red
  WORKLOAD_NAME     workload name reported by reviews as "podname" (default <service>-<version>; POD_NAME also read)
  CLUSTER_NAME      cluster name reported by reviews (default "null", i.e. not shown)
  HTTP_PROXY        proxy for calls to other services, e.g. the sidecar at http://127.0.12.2:15001
  <SVC>_URL         direct base URL for one service, bypassing the proxy (DETAILS_URL, REVIEWS_URL, RATINGS_URL)
  <SVC>_HOSTNAME, <SVC>_SERVICE_PORT, SERVICES_DOMAIN   name parts of http://<host>[.<domain>]:<port> (default <svc>, 9080)
  ACCESS_LOG=0      no per-request log line on stdout
`;

export interface AppConfig {
  service: ServiceName;
  version: string;
  bind: BindAddress;
  workloadName: string;
  clusterName: string;
  proxy: string | undefined;
  targets: Record<string, UpstreamTarget>;
  accessLog: boolean;
}

export type ParseResult = { ok: true; config: AppConfig } | { ok: false; help: boolean; errors: string[] };

export function parseConfig(argv: readonly string[], env: Record<string, string | undefined>): ParseResult {
  const errors: string[] = [];
  let service: string | undefined;
  let version = env.SERVICE_VERSION ?? env.VERSION;
  let bindText = env.BIND;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        errors.push(`${flag} needs a value`);
        return undefined;
      }
      i++;
      return next;
    };
    if (flag === '--help' || flag === '-h') return { ok: false, help: true, errors: [] };
    else if (flag === '--version') version = value() ?? version;
    else if (flag === '--bind') bindText = value() ?? bindText;
    else if (flag.startsWith('-')) errors.push(`unknown flag ${flag}`);
    else if (service === undefined) service = flag;
    else errors.push(`unexpected argument "${flag}"`);
  }
  if (service === undefined) errors.push('missing service name');
  else if (!(SERVICES as readonly string[]).includes(service)) errors.push(`unknown service "${service}" (want one of ${SERVICES.join(', ')})`);
  version ??= 'v1';
  if (service === 'reviews' && !['v1', 'v2', 'v3'].includes(version)) errors.push(`reviews version must be v1, v2 or v3, not "${version}"`);
  let bind: BindAddress | undefined;
  try {
    bind = parseBind(bindText ?? '127.0.0.1:9080', 9080);
  } catch (err) {
    errors.push(err instanceof Error ? err.message : String(err));
  }
  const proxy = env.HTTP_PROXY ?? env.http_proxy;
  if (proxy) {
    try {
      const u = new URL(proxy);
      if (u.protocol !== 'http:') errors.push(`HTTP_PROXY must be an http:// URL, not "${proxy}"`);
    } catch {
      errors.push(`HTTP_PROXY is not a URL: "${proxy}"`);
    }
  }
  if (errors.length > 0 || bind === undefined) return { ok: false, help: false, errors };
  const svc = service as ServiceName;
  return {
    ok: true,
    config: {
      service: svc,
      version,
      bind,
      workloadName: env.WORKLOAD_NAME ?? env.POD_NAME ?? `${svc}-${version}`,
      clusterName: env.CLUSTER_NAME ?? 'null',
      proxy: proxy || undefined,
      targets: targetsFromEnv(SERVICES, env),
      accessLog: env.ACCESS_LOG !== '0',
    },
  };
}
