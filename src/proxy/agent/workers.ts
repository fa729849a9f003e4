// --concurrency N > 1: a primary process (the pilot-agent side) and N node:cluster workers (the data path).
//
// Design: each worker is a complete proxy (its own ADS stream with the same node identity, cluster manager and
// listeners); node:cluster shares every listening socket between the workers (the primary accepts and hands
// connections out round-robin, so a listener swap or drain in one worker never refuses connections). The primary
// runs no xDS client: it serves admin 15000 and agent 15020/15021 by forwarding each request to the workers over IPC
// and merging the answers (counters summed, see admin/merge.ts; config and listeners from worker 1). It is ready when
// every worker is ready; SIGTERM is forwarded and the primary exits once every worker has drained. A crashed worker
// is restarted. Cost: N ADS streams and N copies of the config (the control plane sees N connections of one node).
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import type { Server } from 'node:http';
import { logger } from '../../shared/log.js';
import type { LogLevel } from '../../shared/log.js';
import { isLogLevel, configureLogging } from '../../shared/log.js';
import type { AdminHandler, AdminRequest, AdminResponse } from '../admin/http.js';
import { closeHttp, serveHttp, text } from '../admin/http.js';
import { mergeClustersText, mergePrometheus, mergeStatsText } from '../admin/merge.js';
import type { ProxyOptions } from './options.js';

const log = logger('agent');

/** How long the primary waits for a worker's answer to a forwarded admin request. */
const FORWARD_TIMEOUT_MS = 5_000;
/** Delay before a crashed worker is started again. */
const RESPAWN_DELAY_MS = 1_000;

type ToWorker = { type: 'admin'; id: number; method: string; path: string; query: string };
export type FromWorker =
  | { type: 'admin-res'; id: number; status: number; contentType: string; body: string }
  | { type: 'ready'; listeners: Record<string, string> }
  | { type: 'started' };

interface Output {
  write(s: string): unknown;
}

/** Worker side: answers forwarded admin requests with the worker's own admin handler. */
export function serveAdminOverIpc(admin: AdminHandler): () => void {
  const onMessage = (m: unknown): void => {
    const msg = m as ToWorker;
    if (msg?.type !== 'admin') return;
    void admin({ method: msg.method, path: msg.path, query: new URLSearchParams(msg.query) }).then(
      (r) => process.send?.({ type: 'admin-res', id: msg.id, status: r.status, contentType: r.contentType, body: r.body } satisfies FromWorker),
      (e: unknown) => process.send?.({ type: 'admin-res', id: msg.id, status: 500, contentType: 'text/plain', body: String(e) } satisfies FromWorker),
    );
  };
  process.on('message', onMessage);
  return () => process.removeListener('message', onMessage);
}

/** Primary side: forks the workers, serves the merged endpoints; resolves with the exit status after shutdown. */
export async function runPrimary(o: ProxyOptions, out: Output): Promise<number> {
  const workers = new Map<number, Worker>(); // slot → worker
  const ready = new Set<number>();
  const listeners = new Map<number, Record<string, string>>();
  const pending = new Map<number, { resolve: (r: AdminResponse | undefined) => void; timer: NodeJS.Timeout }>();
  let nextId = 1;
  let draining = false;
  let stopping = false;
  let announcedReady = false;
  let level: LogLevel = o.logLevel;
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((r) => (resolveExit = r));

  const spawn = (slot: number): void => {
    const w = cluster.fork({ ISTHMUS_PROXY_WORKER: String(slot) });
    workers.set(slot, w);
    w.on('message', (m: FromWorker) => {
      if (m.type === 'admin-res') {
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        clearTimeout(p.timer);
        p.resolve({ status: m.status, contentType: m.contentType, body: m.body });
      } else if (m.type === 'ready') {
        ready.add(slot);
        listeners.set(slot, m.listeners);
        if (!announcedReady && ready.size === o.concurrency) {
          announcedReady = true;
          out.write(JSON.stringify({ event: 'ready', listeners: m.listeners, workers: o.concurrency }) + '\n');
        }
      }
    });
    w.on('exit', (code, signal) => {
      ready.delete(slot);
      if (workers.get(slot) === w) workers.delete(slot);
      if (stopping) {
        if (workers.size === 0) resolveExit(0);
        return;
      }
      log.error('proxy worker exited; restarting it', { worker: slot, code, signal });
      setTimeout(() => !stopping && spawn(slot), RESPAWN_DELAY_MS).unref();
    });
  };

  const ask = (w: Worker, req: AdminRequest): Promise<AdminResponse | undefined> =>
    new Promise((resolve) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve(undefined);
      }, FORWARD_TIMEOUT_MS);
      pending.set(id, { resolve, timer });
      w.send({ type: 'admin', id, method: req.method, path: req.path, query: req.query.toString() } satisfies ToWorker);
    });
  const askAll = async (req: AdminRequest): Promise<AdminResponse[]> => {
    const slots = [...workers.keys()].sort((a, b) => a - b);
    const rs = await Promise.all(slots.map((s) => ask(workers.get(s)!, req)));
    return rs.filter((r): r is AdminResponse => r !== undefined);
  };
  const allReady = (): boolean => !draining && ready.size === o.concurrency;

  const shutdown = (drain: boolean): void => {
    if (stopping) return;
    stopping = true;
    draining = true;
    if (workers.size === 0) resolveExit(0);
    for (const w of workers.values()) w.process.kill(drain ? 'SIGTERM' : 'SIGKILL');
  };

  const admin: AdminHandler = async (req) => {
    if ((req.path === '/quitquitquit' || req.path === '/drain_listeners') && req.method !== 'POST') return text(405, 'This endpoint requires POST\n');
    switch (req.path) {
      case '/quitquitquit':
        return text(200, 'OK\n', () => shutdown(false));
      case '/ready':
        return allReady() ? text(200, 'LIVE\n') : text(503, `${draining ? 'DRAINING' : 'INITIALIZING'}\n`);
      case '/logging':
        if (req.method === 'POST') {
          const l = req.query.get('level');
          if (l !== null && isLogLevel(l) && l !== 'none') {
            level = l;
            configureLogging({ level: l });
          }
        }
        break;
      case '/drain_listeners':
        if (req.query.has('graceful')) draining = true;
        break;
    }
    const rs = await askAll(req);
    const first = rs[0];
    if (!first) return text(503, 'no proxy worker answered\n');
    const ok = rs.every((r) => r.status === 200);
    const isText = first.contentType.startsWith('text/');
    if (req.path === '/stats' && ok && isText && req.query.get('format') !== 'prometheus') return { ...first, body: mergeStatsText(rs.map((r) => r.body)) };
    if ((req.path === '/stats/prometheus' || (req.path === '/stats' && req.query.get('format') === 'prometheus')) && ok) return { ...first, body: mergePrometheus(rs.map((r) => r.body)) };
    if (req.path === '/clusters' && ok && isText) return { ...first, body: mergeClustersText(rs.map((r) => r.body)) };
    if (req.path === '/logging') return { ...first, body: `active loggers:\n  all: ${level}\n` };
    if (req.path === '/server_info' && ok) {
      const info = JSON.parse(first.body) as Record<string, unknown>;
      info.state = draining ? 'DRAINING' : allReady() ? 'LIVE' : 'INITIALIZING';
      return { ...first, body: JSON.stringify(info, null, 2) + '\n' };
    }
    return first;
  };

  const readinessReply = (): AdminResponse =>
    allReady() ? text(200, '') : text(503, `Envoy proxy is NOT ready: ${draining ? 'server is draining' : `${ready.size}/${o.concurrency} workers have their first config`}\n`);
  const statusHandler: AdminHandler = async (req) => {
    switch (req.path) {
      case '/healthz/ready':
        return readinessReply();
      case '/stats/prometheus':
        return admin({ ...req, path: '/stats/prometheus' });
      case '/quitquitquit':
        return req.method === 'POST' ? text(200, '', () => shutdown(false)) : text(405, 'method not allowed: use POST\n');
      case '/drain':
        if (req.method !== 'POST') return text(405, 'method not allowed: use POST\n');
        return admin({ method: 'POST', path: '/drain_listeners', query: new URLSearchParams('inboundonly&graceful') });
      default:
        return text(404, 'not found\n');
    }
  };

  const servers: Server[] = [];
  const a = await serveHttp(o.adminAddr, 'admin', admin);
  servers.push(a.server);
  try {
    const s = await serveHttp(o.statusAddr, 'status', statusHandler);
    servers.push(s.server);
    const r = await serveHttp(o.readinessAddr, 'readiness', async (req) => (req.path === '/healthz/ready' ? readinessReply() : text(404, 'not found\n')));
    servers.push(r.server);
    for (let i = 1; i <= o.concurrency; i++) spawn(i);
    out.write(JSON.stringify({ event: 'started', admin: a.address, status: s.address, readiness: r.address, pid: process.pid, workers: o.concurrency }) + '\n');
  } catch (e) {
    await Promise.all(servers.map((x) => closeHttp(x)));
    throw e;
  }

  const onSignal = (sig: NodeJS.Signals): void => {
    log.info('signal received, draining workers', { signal: sig });
    shutdown(true);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const code = await exited;
  process.removeListener('SIGTERM', onSignal);
  process.removeListener('SIGINT', onSignal);
  await Promise.all(servers.map((x) => closeHttp(x)));
  out.write(JSON.stringify({ event: 'stopped' }) + '\n');
  return code;
}
