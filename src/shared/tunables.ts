// Every tunable of the mesh in one place: name, default, one-line description, and the env variable that overrides it.

export interface Tunable<T> {
  readonly name: string;
  readonly env: string;
  readonly default: T;
  readonly description: string;
}

function def<T>(name: string, env: string, dflt: T, description: string): Tunable<T> {
  return { name, env, default: dflt, description };
}

export const Tunables = {
  debounceAfterMs: def('debounce-after', 'PILOT_DEBOUNCE_AFTER', 100, 'quiet period after a config event before a push (ms)'),
  debounceMaxMs: def('debounce-max', 'PILOT_DEBOUNCE_MAX', 10_000, 'longest delay of a push after the first event (ms)'),
  domainSuffix: def('domain', 'ISTIO_DOMAIN', 'cluster.local', 'DNS domain suffix of services'),
  autoRegistrationGraceMs: def('auto-registration-grace', 'PILOT_WORKLOAD_ENTRY_GRACE_PERIOD', 10_000, 'how long an auto-registered WorkloadEntry outlives its proxy connection (ms)'),
  grpcAddr: def('grpc-addr', 'PILOT_GRPC_ADDR', '127.0.0.1:15010', 'plaintext xDS (ADS) listen address'),
  monitoringAddr: def('monitoring-addr', 'PILOT_MONITORING_ADDR', '127.0.0.1:15014', 'Prometheus /metrics listen address'),
  httpAddr: def('http-addr', 'PILOT_HTTP_ADDR', '127.0.0.1:8080', 'debug endpoints listen address'),
  connectTimeoutMs: def('connect-timeout', 'PILOT_CONNECT_TIMEOUT', 10_000, 'default cluster connect timeout (ms), as meshConfig.connectTimeout'),
} as const;

/** Reads a tunable from the environment (only main.ts files call this). */
export function fromEnv<T extends string | number | boolean>(t: Tunable<T>, env: NodeJS.ProcessEnv): T {
  const raw = env[t.env];
  if (raw === undefined || raw === '') return t.default;
  if (typeof t.default === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new Error(`${t.env}=${raw}: not a number`);
    return n as T;
  }
  if (typeof t.default === 'boolean') return (raw === 'true' || raw === '1') as T;
  return raw as T;
}
