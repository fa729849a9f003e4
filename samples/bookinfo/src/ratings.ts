// Bookinfo ratings service: GET /ratings/<id> returns each reviewer's stars; POST /ratings/<id> replaces them in memory.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathOf, readBody, sendJson } from './common/http.js';

export type Ratings = Record<string, number>;

export const DEFAULT_RATINGS: Readonly<Ratings> = { Reviewer1: 5, Reviewer2: 4 };

export function createRatingsHandler(): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const added = new Map<number, Ratings>();
  return async (req, res) => {
    const path = pathOf(req);
    if (path === '/health') return sendJson(res, 200, { status: 'Ratings is healthy' });
    const m = /^\/ratings\/([^/]*)$/.exec(path);
    if (!m) return sendJson(res, 404, { error: 'not found' });
    const idText = m[1] ?? '';
    if (!/^-?\d+$/.test(idText)) return sendJson(res, 400, { error: 'please provide numeric product ID' });
    const id = Number(idText);
    if (req.method === 'GET' || req.method === 'HEAD') {
      return sendJson(res, 200, { id, ratings: added.get(id) ?? DEFAULT_RATINGS });
    }
    if (req.method === 'POST') {
      let parsed: unknown;
      try {
        parsed = JSON.parse((await readBody(req, 64 * 1024)).toString('utf8'));
      } catch {
        return sendJson(res, 400, { error: 'please provide valid ratings JSON' });
      }
      const ratings = validRatings(parsed);
      if (!ratings) return sendJson(res, 400, { error: 'please provide valid ratings JSON' });
      added.set(id, ratings);
      return sendJson(res, 200, { id, ratings });
    }
    return sendJson(res, 405, { error: 'method not allowed' });
  };
}

/** `{ "<reviewer>": 1..5, ... }` or undefined. */
function validRatings(v: unknown): Ratings | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const out: Ratings = {};
  for (const [k, stars] of Object.entries(v)) {
    if (typeof stars !== 'number' || !Number.isInteger(stars) || stars < 1 || stars > 5) return undefined;
    out[k] = stars;
  }
  return out;
}
