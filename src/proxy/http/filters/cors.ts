// envoy.filters.http.cors: preflight OPTIONS answered locally, and access-control-* response headers for allowed
// origins, from the route's (else virtual host's) CorsPolicy (https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/cors_filter).
import type { CorsPolicy } from '../../runtime/types.js';
import type { HcmContext, HttpFilterImpl } from '../context.js';
import type { Exchange } from '../exchange.js';
import { getHeader } from '../headers.js';

export function originAllowed(p: CorsPolicy, origin: string): boolean {
  for (const m of p.allowOrigins) if ((m.kind === 'exact' && m.value === '*') || m.test(origin)) return true;
  return false;
}

export class CorsFilter implements HttpFilterImpl {
  constructor(
    readonly name: string,
    private readonly hcm: HcmContext,
  ) {}

  decodeHeaders(ex: Exchange): boolean {
    const p = ex.route?.perFilter.cors ?? ex.vhost?.perFilter.cors;
    if (!p || !p.enabled) return true;
    const origin = getHeader(ex.headers, 'origin');
    if (!origin) return true;
    if (!originAllowed(p, origin)) {
      this.hcm.stats.corsOriginInvalid.inc();
      return true;
    }
    this.hcm.stats.corsOriginValid.inc();
    ex.corsPolicy = p;
    ex.corsOrigin = origin;
    if (ex.method !== 'OPTIONS' || !getHeader(ex.headers, 'access-control-request-method')) return true;
    const h: string[] = [];
    if (p.allowMethods) h.push('access-control-allow-methods', p.allowMethods);
    if (p.allowHeaders) h.push('access-control-allow-headers', p.allowHeaders);
    if (p.maxAge) h.push('access-control-max-age', p.maxAge);
    ex.sendLocalReply({ status: 200, body: '', details: 'cors_response' }, false, h);
    return false;
  }
}
