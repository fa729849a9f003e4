// Where each downstream service is reached: by mesh name (through the proxy) or a direct override URL, from env-style settings.

/** Where one downstream service is reached. */
export interface UpstreamTarget {
  /** e.g. `http://reviews:9080` (mesh name) or `http://127.0.0.1:4321` (direct override) */
  baseUrl: string;
  /** true: send through the HTTP proxy when one is configured; false: connect directly */
  viaProxy: boolean;
}

/** Resolves the target for every known service from the environment-style settings (Istio Bookinfo's names). */
export function targetsFromEnv(services: readonly string[], env: Record<string, string | undefined>): Record<string, UpstreamTarget> {
  const out: Record<string, UpstreamTarget> = {};
  const domain = env.SERVICES_DOMAIN ? `.${env.SERVICES_DOMAIN}` : '';
  for (const svc of services) {
    const key = svc.toUpperCase();
    const override = env[`${key}_URL`];
    if (override) {
      out[svc] = { baseUrl: override.replace(/\/+$/, ''), viaProxy: false };
      continue;
    }
    const host = env[`${key}_HOSTNAME`] ?? svc;
    const port = env[`${key}_SERVICE_PORT`] ?? '9080';
    out[svc] = { baseUrl: `http://${host}${domain}:${port}`, viaProxy: true };
  }
  return out;
}
