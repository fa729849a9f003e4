// Compiles the HCM's http_filters list into filter instances, in order; the router is terminal.
import type { Stats } from '../../telemetry/stats.js';
import type { HttpFilter } from '../../runtime/types.js';
import type { HcmContext, HttpFilterImpl } from '../context.js';
import type { Exchange } from '../exchange.js';
import { routeRequest } from '../route-action.js';
import { CorsFilter } from './cors.js';
import { FaultFilter } from './fault.js';
import { LocalRateLimitFilter } from './local-ratelimit.js';

class RouterFilter implements HttpFilterImpl {
  constructor(readonly name: string) {}
  decodeHeaders(ex: Exchange): boolean {
    routeRequest(ex);
    return false;
  }
}

/** Filter instances for the chain; unknown optional filters are skipped; filters after the router never run. */
export function compileFilters(list: readonly HttpFilter[], hcm: HcmContext, stats: Stats): HttpFilterImpl[] {
  const out: HttpFilterImpl[] = [];
  for (const f of list) {
    switch (f.type) {
      case 'fault':
        out.push(new FaultFilter(f.name, f.config, hcm));
        break;
      case 'cors':
        out.push(new CorsFilter(f.name, hcm));
        break;
      case 'local_ratelimit':
        out.push(new LocalRateLimitFilter(f.name, f.config, hcm, stats));
        break;
      case 'router':
        out.push(new RouterFilter(f.name));
        return out;
      default:
        break;
    }
  }
  return out;
}
