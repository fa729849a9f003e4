// Bookinfo details service: GET /details/<id> returns the book's bibliographic record as JSON.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathOf, sendJson } from './common/http.js';

export interface BookDetails {
  id: number;
  author: string;
  year: number;
  type: string;
  pages: number;
  publisher: string;
  language: string;
  'ISBN-10': string;
  'ISBN-13': string;
}

/** The one book Bookinfo sells, whatever id is asked for (as Istio's sample does). */
export function bookDetails(id: number): BookDetails {
  return {
    id,
    author: 'William Shakespeare',
    year: 1595,
    type: 'paperback',
    pages: 200,
    publisher: 'PublisherA',
    language: 'English',
    'ISBN-10': '1234567890',
    'ISBN-13': '123-1234567890',
  };
}

export function createDetailsHandler(): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = pathOf(req);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method not allowed' });
    if (path === '/health') return sendJson(res, 200, { status: 'Details is healthy' });
    const m = /^\/details\/([^/]*)$/.exec(path);
    if (!m) return sendJson(res, 404, { error: 'not found' });
    const id = m[1] ?? '';
    if (!/^-?\d+$/.test(id)) return sendJson(res, 400, { error: 'please provide numeric product id' });
    return sendJson(res, 200, bookDetails(Number(id)));
  };
}
