// envoy.filters.http.local_ratelimit: a token bucket per config (the filter's, or a route/virtual-host override),
// refilled lazily from the clock (no timers); limited requests get 429 + RL and, when asked, x-ratelimit-* headers.
import type { Counter, Stats } from '../../telemetry/stats.js';
import type { LocalRateLimitConfig } from '../../runtime/types.js';
import type { HcmContext, HttpFilterImpl } from '../context.js';
import type { Exchange } from '../exchange.js';

export class TokenBucket {
  tokens: number;
  private lastFill: number;
  constructor(
    private readonly cfg: LocalRateLimitConfig,
    now: number,
  ) {
    this.tokens = cfg.maxTokens;
    this.lastFill = now;
  }
  private refill(now: number): void {
    const every = this.cfg.fillIntervalMs > 0 ? this.cfg.fillIntervalMs : 1000;
    const n = Math.floor((now - this.lastFill) / every);
    if (n > 0) {
      this.tokens = Math.min(this.cfg.maxTokens, this.tokens + n * this.cfg.tokensPerFill);
      this.lastFill += n * every;
    }
  }
  consume(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
  /** Whole seconds until the next refill. */
  resetSeconds(now: number): number {
    const every = this.cfg.fillIntervalMs > 0 ? this.cfg.fillIntervalMs : 1000;
    return Math.max(0, Math.ceil((this.lastFill + every - now) / 1000));
  }
}

interface RlStats {
  enabled: Counter;
  enforced: Counter;
  rateLimited: Counter;
  ok: Counter;
}

export class LocalRateLimitFilter implements HttpFilterImpl {
  private readonly buckets = new WeakMap<LocalRateLimitConfig, TokenBucket>();
  private readonly statsByPrefix = new Map<string, RlStats>();

  constructor(
    readonly name: string,
    private readonly config: LocalRateLimitConfig | undefined,
    private readonly hcm: HcmContext,
    private readonly sharedStats: Stats,
  ) {}

  private statsFor(prefix: string): RlStats {
    let s = this.statsByPrefix.get(prefix);
    if (!s) {
      const p = `${prefix}.http_local_rate_limit.`;
      const st = this.sharedStats;
      s = { enabled: st.counter(p + 'enabled'), enforced: st.counter(p + 'enforced'), rateLimited: st.counter(p + 'rate_limited'), ok: st.counter(p + 'ok') };
      this.statsByPrefix.set(prefix, s);
    }
    return s;
  }

  decodeHeaders(ex: Exchange): boolean {
    const cfg = ex.weighted?.perFilter.localRateLimit ?? ex.route?.perFilter.localRateLimit ?? ex.vhost?.perFilter.localRateLimit ?? this.config;
    if (!cfg) return true;
    const hcm = this.hcm;
    const st = this.statsFor(cfg.statPrefix);
    if (!(cfg.enabled >= 1 || hcm.random() < cfg.enabled)) return true;
    st.enabled.inc();
    const now = hcm.now();
    let b = this.buckets.get(cfg);
    if (!b) this.buckets.set(cfg, (b = new TokenBucket(cfg, now)));
    const allowed = b.consume(now);
    if (cfg.xRateLimitHeaders) ex.rateLimitHeaders = [cfg.maxTokens, Math.floor(b.tokens), b.resetSeconds(now)];
    if (allowed) {
      st.ok.inc();
      return true;
    }
    st.rateLimited.inc();
    if (!(cfg.enforced >= 1 || hcm.random() < cfg.enforced)) return true;
    st.enforced.inc();
    ex.rateLimitConfig = cfg;
    ex.sendLocalReply({ status: cfg.status || 429, body: 'local_rate_limited', flag: 'RL', details: 'local_rate_limited' });
    return false;
  }
}
