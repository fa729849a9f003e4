// pilot-agent's endpoints: 15021 `/healthz/ready` (the Kubernetes readiness port) and 15020 (`/healthz/ready`,
// POST `/quitquitquit`, POST `/drain`, merged `/stats/prometheus`). Ready = first full config applied and not draining.
import type { AdminBackend } from '../admin/backend.js';
import { refreshServerStats } from '../admin/handler.js';
import type { AdminHandler, AdminRequest, AdminResponse } from '../admin/http.js';
import { text } from '../admin/http.js';

/** Istio's readiness verdict, with its kind of explanation when not ready. */
export function readiness(b: AdminBackend): { ready: boolean; reason: string } {
  const st = b.state();
  if (st === 'DRAINING') return { ready: false, reason: 'Envoy proxy is NOT ready: server is draining' };
  if (!b.configReady()) {
    const x = b.xdsStatus();
    const why = x && !x.connected ? `not connected to ${x.address}${x.lastError ? `: ${x.lastError}` : ''}` : 'waiting for the first full config';
    return { ready: false, reason: `Envoy proxy is NOT ready: config not received from XDS server (is the control plane running?): ${why}` };
  }
  if (st !== 'LIVE') return { ready: false, reason: `Envoy proxy is NOT ready: server state is ${st}` };
  return { ready: true, reason: '' };
}

function ready(b: AdminBackend): AdminResponse {
  const r = readiness(b);
  return r.ready ? text(200, '') : text(503, `${r.reason}\n`);
}

/** 15021: readiness only. */
export function readinessHandler(b: AdminBackend): AdminHandler {
  return async (req: AdminRequest) => (req.path === '/healthz/ready' ? ready(b) : text(404, 'not found\n'));
}

/** 15020: readiness, lifecycle and merged metrics. */
export function statusHandler(b: AdminBackend): AdminHandler {
  return async (req: AdminRequest): Promise<AdminResponse> => {
    switch (req.path) {
      case '/healthz/ready':
        return ready(b);
      case '/stats/prometheus':
        refreshServerStats(b);
        // App metrics merging (Istio's prometheus.io annotations) is not implemented: these are the proxy's stats.
        return { status: 200, contentType: 'text/plain; version=0.0.4; charset=utf-8', body: b.stats.renderPrometheus() };
      case '/quitquitquit':
        if (req.method !== 'POST') return text(405, 'method not allowed: use POST\n');
        return text(200, '', () => b.quit());
      case '/drain':
        if (req.method !== 'POST') return text(405, 'method not allowed: use POST\n');
        // pilot-agent asks Envoy for /drain_listeners?inboundonly&graceful.
        void b.drainListeners({ inboundOnly: true, graceful: true });
        return text(200, '');
      default:
        return text(404, 'not found\n');
    }
  };
}
