// productpage's calls to details, reviews and ratings, with Bookinfo's timeouts, retry and error texts.
import type { UpstreamClient } from '../common/upstream.js';

export interface Product {
  id: number;
  title: string;
  /** Trusted HTML written by us, shown as the book's description. */
  descriptionHtml: string;
}

export const PRODUCTS: readonly Product[] = [
  {
    id: 0,
    title: 'The Comedy of Errors',
    descriptionHtml:
      '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: ' +
      'one of <b>William Shakespeare\'s</b> earliest and shortest plays, a farce of two sets of identical twins ' +
      'separated at birth whose paths cross in Ephesus, with mistaken identities, wrongful arrests and a great deal of slapstick.',
  },
];

export const DETAILS_ERROR = 'Sorry, product details are currently unavailable for this book.';
export const REVIEWS_ERROR = 'Sorry, product reviews are currently unavailable for this book.';
export const RATINGS_ERROR = 'Sorry, product ratings are currently unavailable for this book.';

/** Per-call deadline for details, reviews and ratings (Istio's productpage uses 3 s). */
export const CALL_TIMEOUT_MS = 3_000;
/** Attempts for reviews: the first try plus one retry, on any failure. */
export const REVIEWS_ATTEMPTS = 2;

/** Status and JSON body as productpage passes them on (the API routes return them unchanged). */
export interface Fetched {
  status: number;
  body: unknown;
}

export interface BackendOptions {
  client: UpstreamClient;
  timeoutMs?: number;
}

export class Backend {
  readonly #client: UpstreamClient;
  readonly #timeoutMs: number;

  constructor(opts: BackendOptions) {
    this.#client = opts.client;
    this.#timeoutMs = opts.timeoutMs ?? CALL_TIMEOUT_MS;
  }

  async details(id: number, headers: Record<string, string>): Promise<Fetched> {
    return this.#fetch('details', `/details/${id}`, headers, 1, DETAILS_ERROR);
  }

  async reviews(id: number, headers: Record<string, string>): Promise<Fetched> {
    return this.#fetch('reviews', `/reviews/${id}`, headers, REVIEWS_ATTEMPTS, REVIEWS_ERROR);
  }

  async ratings(id: number, headers: Record<string, string>): Promise<Fetched> {
    return this.#fetch('ratings', `/ratings/${id}`, headers, 1, RATINGS_ERROR);
  }

  async #fetch(service: string, path: string, headers: Record<string, string>, attempts: number, errorText: string): Promise<Fetched> {
    let status = 500;
    for (let i = 0; i < attempts; i++) {
      const r = await this.#client.getJson(service, path, { headers, timeoutMs: this.#timeoutMs });
      if (r.ok && r.status === 200) return { status: 200, body: r.body };
      status = r.status ?? 500;
    }
    return { status, body: { error: errorText } };
  }
}
