// Tests for details, ratings and reviews v1/v2/v3: JSON shapes, star colours, ratings failures and header propagation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { request } from 'undici';
import { startServer } from './common/http.js';
import type { RunningServer } from './common/http.js';
import { fakeServer, json } from './common/test-support.js';
import type { FakeServer } from './common/test-support.js';
import { UpstreamClient } from './common/upstream.js';
import { createDetailsHandler } from './details.js';
import { createRatingsHandler } from './ratings.js';
import { createReviewsHandler, RATINGS_UNAVAILABLE } from './reviews.js';
import type { ReviewsVersion } from './reviews.js';

const LOCAL = { host: '127.0.0.1', port: 0 };

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const res = await request(url, { headers });
  return { status: res.statusCode, body: await res.body.json() };
}

test('details returns the book record and validates the id', async (t) => {
  const s = await startServer(createDetailsHandler(), LOCAL);
  t.after(() => s.close());
  assert.deepEqual(await get(`${s.url}/details/0`), {
    status: 200,
    body: {
      id: 0,
      author: 'William Shakespeare',
      year: 1595,
      type: 'paperback',
      pages: 200,
      publisher: 'PublisherA',
      language: 'English',
      'ISBN-10': '1234567890',
      'ISBN-13': '123-1234567890',
    },
  });
  assert.equal((await get(`${s.url}/details/abc`)).status, 400);
  assert.deepEqual(await get(`${s.url}/health`), { status: 200, body: { status: 'Details is healthy' } });
  assert.equal((await get(`${s.url}/nope`)).status, 404);
});

test('ratings returns Reviewer1 5 and Reviewer2 4; POST replaces them; ids are numeric', async (t) => {
  const s = await startServer(createRatingsHandler(), LOCAL);
  t.after(() => s.close());
  assert.deepEqual(await get(`${s.url}/ratings/0`), { status: 200, body: { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } } });
  assert.equal((await get(`${s.url}/ratings/x`)).status, 400);
  const post = await request(`${s.url}/ratings/7`, { method: 'POST', body: JSON.stringify({ Reviewer1: 1, Reviewer2: 2 }) });
  assert.equal(post.statusCode, 200);
  await post.body.dump();
  assert.deepEqual(await get(`${s.url}/ratings/7`), { status: 200, body: { id: 7, ratings: { Reviewer1: 1, Reviewer2: 2 } } });
  const bad = await request(`${s.url}/ratings/7`, { method: 'POST', body: '{"Reviewer1": 9}' });
  assert.equal(bad.statusCode, 400);
  await bad.body.dump();
  assert.deepEqual(await get(`${s.url}/health`), { status: 200, body: { status: 'Ratings is healthy' } });
});

async function reviews(t: TestContext, version: ReviewsVersion, ratingsUrl: string): Promise<RunningServer> {
  const client = new UpstreamClient({ targets: { ratings: { baseUrl: ratingsUrl, viaProxy: true } } });
  const s = await startServer(createReviewsHandler({ version, podName: `reviews-${version}-pod`, clusterName: 'null', client }), LOCAL);
  t.after(async () => {
    await s.close();
    await client.close();
  });
  return s;
}

async function ratingsFake(t: TestContext, reply: 'ok' | 'fail' | 'hang'): Promise<FakeServer> {
  const r = await fakeServer((_q, res) => {
    if (reply === 'ok') json(res, 200, { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
    else if (reply === 'fail') json(res, 500, { error: 'fault filter abort' });
  });
  t.after(() => r.close());
  return r;
}

interface ReviewsBody {
  id: string;
  podname: string;
  clustername: string;
  reviews: { reviewer: string; text: string; rating?: unknown }[];
}

test('reviews v1 has no ratings and does not call ratings', async (t) => {
  const ratings = await ratingsFake(t, 'ok');
  const s = await reviews(t, 'v1', ratings.url);
  const r = await get(`${s.url}/reviews/0`);
  assert.equal(r.status, 200);
  const body = r.body as ReviewsBody;
  assert.equal(body.id, '0');
  assert.equal(body.podname, 'reviews-v1-pod');
  assert.equal(body.clustername, 'null');
  assert.deepEqual(body.reviews.map((x) => x.reviewer), ['Reviewer1', 'Reviewer2']);
  assert.ok(body.reviews.every((x) => x.rating === undefined && x.text.length > 0));
  assert.equal(ratings.requests.length, 0);
});

test('reviews v2 shows black stars and v3 red stars from ratings', async (t) => {
  const ratings = await ratingsFake(t, 'ok');
  for (const [version, color] of [['v2', 'black'], ['v3', 'red']] as const) {
    const s = await reviews(t, version, ratings.url);
    const body = (await get(`${s.url}/reviews/0`)).body as ReviewsBody;
    assert.deepEqual(body.reviews.map((x) => x.rating), [{ stars: 5, color }, { stars: 4, color }]);
  }
  assert.deepEqual(ratings.requests.map((q) => q.target), ['/ratings/0', '/ratings/0']);
});

test('reviews forwards trace and user headers to ratings, not hop or host headers', async (t) => {
  const ratings = await ratingsFake(t, 'ok');
  const s = await reviews(t, 'v2', ratings.url);
  const incoming = {
    'x-request-id': 'req-1',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    tracestate: 'congo=t61rcWkgMzE',
    'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
    'x-b3-spanid': 'e457b5a2e4d86bd1',
    'x-b3-parentspanid': '05e3ac9a4f6e3b90',
    'x-b3-sampled': '1',
    'x-b3-flags': '0',
    b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1',
    'x-ot-span-context': 'ot',
    'x-cloud-trace-context': 'ctc',
    sw8: 'sw',
    'end-user': 'jason',
    'user-agent': 'tester/1',
    cookie: 'user=jason',
    'x-not-propagated': 'nope',
  };
  await get(`${s.url}/reviews/0`, incoming);
  const seen = ratings.requests[0]?.headers ?? {};
  for (const [k, v] of Object.entries(incoming)) {
    if (k === 'x-not-propagated') assert.equal(seen[k], undefined);
    else assert.equal(seen[k], v, k);
  }
});

test('reviews v2 and v3 report "Ratings service is currently unavailable" when ratings fails', async (t) => {
  const ratings = await ratingsFake(t, 'fail');
  for (const version of ['v2', 'v3'] as const) {
    const s = await reviews(t, version, ratings.url);
    const r = await get(`${s.url}/reviews/0`);
    assert.equal(r.status, 200);
    assert.deepEqual((r.body as ReviewsBody).reviews.map((x) => x.rating), [{ error: RATINGS_UNAVAILABLE }, { error: RATINGS_UNAVAILABLE }]);
  }
  const gone = await reviews(t, 'v2', 'http://127.0.0.1:1');
  assert.deepEqual(((await get(`${gone.url}/reviews/0`)).body as ReviewsBody).reviews[0]?.rating, { error: RATINGS_UNAVAILABLE });
});

test('reviews v3 gives up on ratings after 2.5 s', async (t) => {
  const ratings = await ratingsFake(t, 'hang');
  const s = await reviews(t, 'v3', ratings.url);
  const started = Date.now();
  const r = await get(`${s.url}/reviews/0`);
  const took = Date.now() - started;
  assert.ok(took >= 2400 && took < 4000, `took ${took} ms`);
  assert.deepEqual((r.body as ReviewsBody).reviews[1]?.rating, { error: RATINGS_UNAVAILABLE });
});
