// envoy.filters.http.fault: delay (DI) and abort (FI, HTTP or gRPC status) with percentages; the route's (or
// virtual host's) typed_per_filter_config overrides the filter's own config, as Istio configures fault injection.
import type { FaultConfig } from '../../runtime/types.js';
import type { HcmContext, HttpFilterImpl } from '../context.js';
import type { Exchange } from '../exchange.js';
import { faultAbort } from '../local-reply.js';

export class FaultFilter implements HttpFilterImpl {
  constructor(
    readonly name: string,
    private readonly config: FaultConfig | undefined,
    private readonly hcm: HcmContext,
  ) {}

  decodeHeaders(ex: Exchange): boolean {
    const cfg = ex.weighted?.perFilter.fault ?? ex.route?.perFilter.fault ?? ex.vhost?.perFilter.fault ?? this.config;
    if (!cfg) return true;
    const st = this.hcm.stats;
    // After a delay the filter runs again: the abort decision is taken then (Envoy: delay first, then abort).
    if (!ex.faultActive) {
      if (cfg.maxActiveFaults !== undefined && st.faultActive.value >= cfg.maxActiveFaults) return true;
      const d = cfg.delay;
      if (d && d.fixedDelayMs > 0 && this.hcm.random() < d.percent.fraction) {
        ex.faultActive = true;
        st.faultActive.inc();
        st.faultDelaysInjected.inc();
        ex.addFlag('DI');
        ex.filterIndex--; // resume at this filter for the abort decision
        ex.delay(d.fixedDelayMs);
        return false;
      }
    } else {
      ex.faultActive = false;
      st.faultActive.dec();
    }
    const ab = cfg.abort;
    if (ab && (ab.httpStatus !== undefined || ab.grpcStatus !== undefined) && this.hcm.random() < ab.percent.fraction) {
      st.faultAbortsInjected.inc();
      ex.sendLocalReply(faultAbort(ab.httpStatus, ab.grpcStatus));
      return false;
    }
    return true;
  }
}
