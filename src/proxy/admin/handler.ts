// The admin endpoints (Envoy's 15000, loopback only): config_dump, clusters, listeners, stats (text, JSON,
// Prometheus), server_info, logging, ready, drain_listeners, quitquitquit, memory, healthz.
// https://www.envoyproxy.io/docs/envoy/latest/operations/admin
import { isLogLevel } from '../../shared/log.js';
import type { AdminBackend } from './backend.js';
import { SERVER_STATE_CODE } from './backend.js';
import type { AdminHandler, AdminRequest, AdminResponse } from './http.js';
import { json, text } from './http.js';
import { clustersJson, clustersText, configDump, listenersJson, listenersText, serverInfo } from './render.js';

const ENDPOINTS: Record<string, string> = {
  '/': 'print this help',
  '/config_dump': 'dump the current xDS config (?include_eds, ?resource=dynamic_listeners|dynamic_active_clusters|...)',
  '/clusters': 'upstream clusters and hosts (?format=json)',
  '/listeners': 'listeners and their bound addresses (?format=json)',
  '/stats': 'print server stats (?filter=<regex>, ?usedonly, ?format=json|prometheus)',
  '/stats/prometheus': 'print server stats in Prometheus format',
  '/server_info': 'server state, node, uptime, xDS connection',
  '/logging': 'show the log level; POST ?level=<debug|info|warn|error> changes it',
  '/ready': 'LIVE (200) once the first full config is applied, else the state (503)',
  '/healthz': 'process is up (200)',
  '/memory': 'process memory usage',
  '/drain_listeners': 'POST: stop accepting and drain (?inboundonly, ?graceful)',
  '/quitquitquit': 'POST: exit the server',
};
const POST_ONLY = new Set(['/drain_listeners', '/quitquitquit', '/healthcheck/fail', '/reset_counters']);

/** Refreshes the `server.*` gauges Envoy exports before stats are rendered. */
export function refreshServerStats(b: AdminBackend): void {
  const s = b.stats;
  const st = b.state();
  s.gauge('server.state').set(SERVER_STATE_CODE[st]);
  s.gauge('server.live').set(st === 'LIVE' ? 1 : 0);
  s.gauge('server.uptime').set(Math.floor((Date.now() - b.startedAt) / 1000));
  const mem = process.memoryUsage();
  s.gauge('server.memory_allocated').set(mem.heapUsed);
  s.gauge('server.memory_heap_size').set(mem.heapTotal);
  s.gauge('server.memory_physical_size').set(mem.rss);
  s.gauge('server.concurrency').set(Number(b.options.concurrency ?? 1));
}

/** `/stats` text with Envoy's ?filter (a regular expression on the stat name) and ?usedonly. */
function statsText(b: AdminBackend, q: URLSearchParams): AdminResponse {
  let lines = b.stats.renderText().split('\n').filter((l) => l !== '');
  const filter = q.get('filter');
  if (filter) {
    let re: RegExp;
    try {
      re = new RegExp(filter); // admin-only input on loopback; never used for routing
    } catch (e) {
      return text(400, `invalid regex: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    lines = lines.filter((l) => re.test(l.slice(0, l.indexOf(':'))));
  }
  if (q.has('usedonly')) lines = lines.filter((l) => !/: 0$/.test(l) && !l.includes('count(0)'));
  if (q.get('format') === 'json') {
    return json(200, {
      stats: lines.map((l) => {
        const i = l.indexOf(': ');
        const v = l.slice(i + 2);
        return /^-?\d+(\.\d+)?$/.test(v) ? { name: l.slice(0, i), value: Number(v) } : { name: l.slice(0, i), histograms: v };
      }),
    });
  }
  return text(200, lines.join('\n') + (lines.length > 0 ? '\n' : ''));
}

export function adminHandler(b: AdminBackend, version: string): AdminHandler {
  return async (req: AdminRequest): Promise<AdminResponse> => {
    const { path, query: q } = req;
    if (POST_ONLY.has(path) && req.method !== 'POST') return text(405, 'This endpoint requires POST\n');
    switch (path) {
      case '/':
      case '/help':
        return text(200, 'admin commands are:\n' + Object.entries(ENDPOINTS).map(([p, d]) => `  ${p}: ${d}\n`).join(''));
      case '/config_dump': {
        const resource = q.get('resource') ?? undefined;
        return json(200, configDump(b, { includeEds: q.has('include_eds'), ...(resource ? { resource } : {}) }));
      }
      case '/clusters': {
        const cm = b.clusters();
        const all = cm ? cm.all() : [];
        return q.get('format') === 'json' ? json(200, clustersJson(all)) : text(200, clustersText(all));
      }
      case '/listeners':
        return q.get('format') === 'json' ? json(200, listenersJson(b.listeners())) : text(200, listenersText(b.listeners()));
      case '/stats':
        refreshServerStats(b);
        if (q.get('format') === 'prometheus') return text(200, b.stats.renderPrometheus());
        return statsText(b, q);
      case '/stats/prometheus':
        refreshServerStats(b);
        return { status: 200, contentType: 'text/plain; version=0.0.4; charset=utf-8', body: b.stats.renderPrometheus() };
      case '/server_info':
        return json(200, serverInfo(b, version));
      case '/logging': {
        const level = q.get('level');
        if (req.method === 'POST' && level !== null) {
          if (!isLogLevel(level) || level === 'none') return text(400, `invalid level ${JSON.stringify(level)}: want debug, info, warn or error\n`);
          b.setLogLevel(level);
        } else if (req.method === 'POST' && [...q.keys()].length > 0) {
          return text(400, 'per-logger levels are not supported: use ?level=<debug|info|warn|error>\n');
        }
        return text(200, `active loggers:\n  all: ${b.logLevel()}\n`);
      }
      case '/ready': {
        const st = b.state();
        return st === 'LIVE' && b.configReady() ? text(200, 'LIVE\n') : text(503, `${st}\n`);
      }
      case '/healthz':
        return text(200, 'OK\n');
      case '/memory': {
        const m = process.memoryUsage();
        return json(200, { allocated: String(m.heapUsed), heap_size: String(m.heapTotal), resident: String(m.rss), external: String(m.external) });
      }
      case '/drain_listeners':
        // Envoy answers at once and drains in the background.
        void b.drainListeners({ inboundOnly: q.has('inboundonly'), graceful: q.has('graceful') });
        return text(200, 'OK\n');
      case '/quitquitquit':
        return text(200, 'OK\n', () => b.quit());
      default:
        return text(404, `invalid path. admin commands are:\n` + Object.keys(ENDPOINTS).map((p) => `  ${p}\n`).join(''));
    }
  };
}
