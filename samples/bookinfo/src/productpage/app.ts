// productpage: the Bookinfo front end (HTML page, login cookie, JSON API) calling details and reviews.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathOf, readBody, redirect, sendJson, sendText } from '../common/http.js';
import { propagatedHeaders } from '../common/propagate.js';
import type { UpstreamClient } from '../common/upstream.js';
import { Backend, PRODUCTS } from './backend.js';
import { renderIndex, renderLogin, renderProductPage, STYLESHEET } from './render.js';

/** Cookie holding the signed-in user's name. */
export const USER_COOKIE = 'user';
const USER_NAME = /^[A-Za-z0-9._@+-]{1,64}$/;
const HTML = 'text/html; charset=utf-8';

export interface ProductpageOptions {
  client: UpstreamClient;
  /** Per-call deadline, default 3 s. */
  timeoutMs?: number;
}

export function createProductpageHandler(opts: ProductpageOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const backend = new Backend({ client: opts.client, timeoutMs: opts.timeoutMs });
  return async (req, res) => {
    const path = pathOf(req);
    const method = req.method ?? 'GET';
    const user = userOf(req);

    if (path === '/login' && method === 'POST') return login(req, res);
    if (method !== 'GET' && method !== 'HEAD') return sendJson(res, 405, { error: 'method not allowed' });

    switch (path) {
      case '/':
      case '/index.html':
        return sendText(res, 200, renderIndex(user), HTML);
      case '/health':
        return sendJson(res, 200, { status: 'Product page is healthy' });
      case '/login':
        return sendText(res, 200, renderLogin(user), HTML);
      case '/logout':
        return redirect(res, '/productpage', { 'set-cookie': `${USER_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax` });
      case '/static/bookinfo.css':
        return sendText(res, 200, STYLESHEET, 'text/css; charset=utf-8');
      case '/productpage': {
        const product = PRODUCTS[0];
        if (!product) return sendJson(res, 404, { error: 'no products' });
        const headers = forwardHeaders(req, user);
        const [details, reviews] = await Promise.all([backend.details(product.id, headers), backend.reviews(product.id, headers)]);
        return sendText(res, 200, renderProductPage({ product, user, details, reviews }), HTML);
      }
      case '/api/v1/products':
        return sendJson(res, 200, PRODUCTS);
      default:
        break;
    }

    const m = /^\/api\/v1\/products\/([^/]+)(?:\/(reviews|ratings))?$/.exec(path);
    if (!m) return sendJson(res, 404, { error: 'not found' });
    if (!/^\d+$/.test(m[1] ?? '')) return sendJson(res, 400, { error: 'please provide numeric product ID' });
    const id = Number(m[1]);
    const headers = forwardHeaders(req, user);
    const r =
      m[2] === 'reviews' ? await backend.reviews(id, headers) : m[2] === 'ratings' ? await backend.ratings(id, headers) : await backend.details(id, headers);
    return sendJson(res, r.status, r.body);
  };
}

async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const form = new URLSearchParams((await readBody(req, 16 * 1024)).toString('utf8'));
  const name = (form.get('username') ?? '').trim();
  if (!USER_NAME.test(name)) {
    return sendText(res, 400, renderLogin(undefined).replace('<form', '<p class="error">User names are 1-64 letters, digits or ._@+-</p>\n<form'), HTML);
  }
  return redirect(res, '/productpage', { 'set-cookie': `${USER_COOKIE}=${name}; Path=/; HttpOnly; SameSite=Lax` });
}

/** The signed-in user from the cookie, if any. */
export function userOf(req: IncomingMessage): string | undefined {
  const cookie = req.headers.cookie;
  if (!cookie) return undefined;
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== USER_COOKIE) continue;
    const v = part.slice(eq + 1).trim();
    return USER_NAME.test(v) ? v : undefined;
  }
  return undefined;
}

/** Trace and user headers for downstream calls; the session's user becomes `end-user` unless the caller sent one. */
function forwardHeaders(req: IncomingMessage, user: string | undefined): Record<string, string> {
  const headers = propagatedHeaders(req.headers);
  if (user && headers['end-user'] === undefined) headers['end-user'] = user;
  return headers;
}
