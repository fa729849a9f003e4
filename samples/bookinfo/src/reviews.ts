// Bookinfo reviews service: v1 plain reviews; v2 adds black stars and v3 red stars from the ratings service.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathOf, sendJson } from './common/http.js';
import { propagatedHeaders } from './common/propagate.js';
import type { UpstreamClient } from './common/upstream.js';

export type ReviewsVersion = 'v1' | 'v2' | 'v3';

export const RATINGS_UNAVAILABLE = 'Ratings service is currently unavailable';

/** Per-version behaviour, as in Istio's Bookinfo reviews. */
export const REVIEWS_VERSIONS: Readonly<Record<ReviewsVersion, { ratings: boolean; color?: string; timeoutMs?: number }>> = {
  v1: { ratings: false },
  v2: { ratings: true, color: 'black', timeoutMs: 10_000 },
  v3: { ratings: true, color: 'red', timeoutMs: 2_500 },
};

export type ReviewRating = { stars: number; color: string } | { error: string };

export interface Review {
  reviewer: string;
  text: string;
  rating?: ReviewRating;
}

export interface ReviewsResponse {
  id: string;
  podname: string;
  clustername: string;
  reviews: Review[];
}

const REVIEWS: readonly { reviewer: string; text: string }[] = [
  { reviewer: 'Reviewer1', text: 'A riotous evening: two pairs of twins, one town, and not a dull scene. The physical comedy still lands.' },
  { reviewer: 'Reviewer2', text: 'Light and quick to read. Great fun, though it has less depth than the later plays.' },
];

export interface ReviewsOptions {
  version: ReviewsVersion;
  /** Reported as `podname`; the productpage shows it as "Reviews served by". */
  podName: string;
  /** Reported as `clustername`; Istio's sample sends the string "null" when unknown. */
  clusterName: string;
  /** Reaches the `ratings` service. */
  client: UpstreamClient;
}

export function createReviewsHandler(opts: ReviewsOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const behaviour = REVIEWS_VERSIONS[opts.version];
  return async (req, res) => {
    const path = pathOf(req);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method not allowed' });
    if (path === '/health') return sendJson(res, 200, { status: 'Reviews is healthy' });
    const m = /^\/reviews\/([^/]*)$/.exec(path);
    if (!m) return sendJson(res, 404, { error: 'not found' });
    const id = m[1] ?? '';
    if (!/^-?\d+$/.test(id)) return sendJson(res, 400, { error: 'please provide numeric product id' });

    let stars: Record<string, number> | undefined;
    if (behaviour.ratings) {
      const r = await opts.client.getJson('ratings', `/ratings/${id}`, {
        headers: propagatedHeaders(req.headers),
        timeoutMs: behaviour.timeoutMs ?? 10_000,
      });
      if (r.ok) stars = ratingsOf(r.body);
    }
    const body: ReviewsResponse = {
      id,
      podname: opts.podName,
      clustername: opts.clusterName,
      reviews: REVIEWS.map((rv) => {
        if (!behaviour.ratings) return { ...rv };
        const s = stars?.[rv.reviewer];
        const rating: ReviewRating = s === undefined ? { error: RATINGS_UNAVAILABLE } : { stars: s, color: behaviour.color ?? 'black' };
        return { ...rv, rating };
      }),
    };
    return sendJson(res, 200, body);
  };
}

/** Extracts `{ratings: {name: stars}}` from a ratings response; undefined when the shape is wrong. */
function ratingsOf(body: unknown): Record<string, number> | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const ratings = (body as { ratings?: unknown }).ratings;
  if (typeof ratings !== 'object' || ratings === null) return undefined;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(ratings)) if (typeof v === 'number') out[k] = v;
  return out;
}
