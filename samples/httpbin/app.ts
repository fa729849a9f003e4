// httpbin-compatible test server: /get, /headers, /ip, /status/{codes}, /delay/{s}, /anything and friends.
// Behaviour follows https://httpbin.org (JSON shapes, Title-Case header names, weighted /status choice).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathOf, readBody, sendJson, sendText } from '../bookinfo/src/common/http.js';

export interface HttpbinOptions {
  /** Label such as v1 or v2, sent as `x-httpbin-version` and shown by /health. */
  version: string;
  /** Upper bound for /delay in seconds (httpbin: 10). */
  maxDelaySeconds?: number;
  /** Source of randomness for /status choices; [0, 1). */
  random?: () => number;
}

const BODY_METHODS: Record<string, string> = { '/post': 'POST', '/put': 'PUT', '/patch': 'PATCH', '/delete': 'DELETE' };

export function createHttpbinHandler(opts: HttpbinOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const maxDelay = opts.maxDelaySeconds ?? 10;
  const random = opts.random ?? Math.random;
  const label = { 'x-httpbin-version': opts.version };
  return async (req, res) => {
    const path = pathOf(req);
    const method = req.method ?? 'GET';
    const readOnly = method === 'GET' || method === 'HEAD';

    if (path === '/anything' || path.startsWith('/anything/')) {
      return sendJson(res, 200, { ...(await echo(req)), method }, label);
    }
    const bodyMethod = BODY_METHODS[path];
    if (bodyMethod !== undefined) {
      if (method !== bodyMethod) return sendJson(res, 405, { error: `use ${bodyMethod}` }, label);
      return sendJson(res, 200, await echo(req), label);
    }
    const status = /^\/status\/([^/]+)$/.exec(path);
    if (status) return statusReply(res, (status[1] ?? '').replace(/%2C/gi, ',').replace(/%3A/gi, ':'), random, label);
    const delay = /^\/delay\/([^/]+)$/.exec(path);
    if (delay) {
      const seconds = Number(delay[1]);
      if (!Number.isFinite(seconds) || seconds < 0) return sendJson(res, 400, { error: 'delay must be a number of seconds' }, label);
      const body = await echo(req);
      await wait(res, Math.min(seconds, maxDelay) * 1000);
      if (!res.destroyed) sendJson(res, 200, body, label);
      return;
    }
    if (!readOnly) return sendJson(res, 405, { error: 'method not allowed' }, label);
    switch (path) {
      case '/':
        return sendText(res, 200, INDEX, 'text/plain; charset=utf-8', label);
      case '/health':
        return sendJson(res, 200, { status: 'httpbin is healthy', version: opts.version }, label);
      case '/get': {
        const { args, headers, origin, url } = await echo(req);
        return sendJson(res, 200, { args, headers, origin, url }, label);
      }
      case '/headers':
        return sendJson(res, 200, { headers: headersOf(req) }, label);
      case '/ip':
        return sendJson(res, 200, { origin: originOf(req) }, label);
      case '/user-agent':
        return sendJson(res, 200, { 'user-agent': req.headers['user-agent'] ?? null }, label);
      case '/uuid':
        return sendJson(res, 200, { uuid: randomUUID() }, label);
      default:
        return sendJson(res, 404, { error: 'not found' }, label);
    }
  };
}

const INDEX = `httpbin (Isthmus sample): an HTTP request and response service.
  GET  /get            args, headers, origin, url
  GET  /headers        request headers
  GET  /ip             caller address
  GET  /user-agent     caller's User-Agent
  GET  /uuid           a random UUID
  ANY  /anything[/..]  echo: method, args, headers, data, form, json, origin, url
  ANY  /status/{codes} reply with a status; "200,500" or "200:3,500:1" picks one at random (weighted)
  ANY  /delay/{n}      reply after n seconds (at most 10)
  POST /post, PUT /put, PATCH /patch, DELETE /delete   echo
  GET  /health         liveness
`;

interface Echo {
  args: Record<string, string | string[]>;
  data: string;
  files: Record<string, never>;
  form: Record<string, string | string[]>;
  headers: Record<string, string>;
  json: unknown;
  origin: string;
  url: string;
}

async function echo(req: IncomingMessage): Promise<Echo> {
  const raw = (await readBody(req, 10 * 1024 * 1024)).toString('utf8');
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const isForm = type.startsWith('application/x-www-form-urlencoded');
  let json: unknown = null;
  if (!isForm && raw !== '') {
    try {
      json = JSON.parse(raw);
    } catch {
      json = null;
    }
  }
  const url = new URL(pathAndQuery(req), `http://${req.headers.host ?? 'localhost'}`);
  const scheme = firstValue(req.headers['x-forwarded-proto']) ?? 'http';
  return {
    args: multiMap(url.searchParams),
    data: isForm ? '' : raw,
    files: {},
    form: isForm ? multiMap(new URLSearchParams(raw)) : {},
    headers: headersOf(req),
    json,
    origin: originOf(req),
    url: `${scheme}://${req.headers.host ?? 'localhost'}${url.pathname}${url.search}`,
  };
}

function pathAndQuery(req: IncomingMessage): string {
  const u = req.url ?? '/';
  const q = u.indexOf('?');
  return pathOf(req) + (q < 0 ? '' : u.slice(q));
}

function multiMap(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = all.length === 1 ? (all[0] ?? '') : all;
  }
  return out;
}

/** Request headers with httpbin's Title-Case names (`X-B3-Traceid`); repeated headers joined with commas. */
export function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
    const value = raw[i + 1] ?? '';
    out[name] = out[name] === undefined ? value : `${out[name]},${value}`;
  }
  return out;
}

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function originOf(req: IncomingMessage): string {
  const xff = firstValue(req.headers['x-forwarded-for']);
  if (xff) return xff;
  return (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

/** Parses `200`, `200,500` or `200:3,500:1` into weighted choices; undefined when invalid. */
export function parseStatusChoices(spec: string): { code: number; weight: number }[] | undefined {
  const out: { code: number; weight: number }[] = [];
  for (const part of spec.split(',')) {
    const m = /^\s*(\d{3})\s*(?::\s*(\d+(?:\.\d+)?)\s*)?$/.exec(part);
    if (!m) return undefined;
    const code = Number(m[1]);
    const weight = m[2] === undefined ? 1 : Number(m[2]);
    if (code < 100 || code > 599) return undefined;
    out.push({ code, weight });
  }
  return out.length > 0 && out.some((c) => c.weight > 0) ? out : undefined;
}

function statusReply(res: ServerResponse, spec: string, random: () => number, label: Record<string, string>): void {
  const choices = parseStatusChoices(spec);
  if (!choices) return sendText(res, 400, 'Invalid status code', 'text/plain; charset=utf-8', label);
  const total = choices.reduce((s, c) => s + c.weight, 0);
  let point = random() * total;
  let code = choices[choices.length - 1]?.code ?? 200;
  for (const c of choices) {
    if (point < c.weight) {
      code = c.code;
      break;
    }
    point -= c.weight;
  }
  const headers: Record<string, string> = { ...label };
  let body = '';
  if ([301, 302, 303, 305, 307].includes(code)) headers.location = '/redirect/1';
  if (code === 401) headers['www-authenticate'] = 'Basic realm="Fake Realm"';
  if (code === 407) headers['proxy-authenticate'] = 'Basic realm="Fake Realm"';
  if (code === 418) body = "I'm a teapot\n";
  if (code === 204 || code === 304 || code < 200) {
    res.writeHead(code, headers);
    res.end();
    return;
  }
  return sendText(res, code, body, 'text/plain; charset=utf-8', headers);
}

/** Resolves after `ms`, or early when the client goes away. */
function wait(res: ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    res.once('close', done);
    function done(): void {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    }
  });
}
