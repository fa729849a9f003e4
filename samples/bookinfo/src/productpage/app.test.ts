// Tests for productpage against fake details and reviews: page content, error texts, retry, timeout, login, propagation, API.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { request } from 'undici';
import { startServer } from '../common/http.js';
import type { RunningServer } from '../common/http.js';
import { fakeServer, json } from '../common/test-support.js';
import type { FakeServer, Recorded } from '../common/test-support.js';
import { UpstreamClient } from '../common/upstream.js';
import { createProductpageHandler } from './app.js';
import { CALL_TIMEOUT_MS, REVIEWS_ATTEMPTS } from './backend.js';

const DETAILS = { id: 0, author: 'William Shakespeare', year: 1595, type: 'paperback', pages: 200, publisher: 'PublisherA', language: 'English', 'ISBN-10': '1234567890', 'ISBN-13': '123-1234567890' };

function reviewsBody(rating?: (i: number) => unknown): unknown {
  return {
    id: '0',
    podname: 'reviews-v9-abc',
    clustername: 'null',
    reviews: ['Reviewer1', 'Reviewer2'].map((reviewer, i) => ({ reviewer, text: `text <${i}>`, ...(rating ? { rating: rating(i) } : {}) })),
  };
}

interface Fixture {
  page: RunningServer;
  details: FakeServer;
  reviews: FakeServer;
  ratings: FakeServer;
}

type Reply = (req: Recorded, res: ServerResponse) => void;

async function fixture(t: TestContext, replies: { details?: Reply; reviews?: Reply; timeoutMs?: number } = {}): Promise<Fixture> {
  const details = await fakeServer(replies.details ?? ((_q, res) => json(res, 200, DETAILS)));
  const reviews = await fakeServer(replies.reviews ?? ((_q, res) => json(res, 200, reviewsBody())));
  const ratings = await fakeServer((_q, res) => json(res, 200, { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } }));
  const client = new UpstreamClient({
    targets: {
      details: { baseUrl: details.url, viaProxy: false },
      reviews: { baseUrl: reviews.url, viaProxy: false },
      ratings: { baseUrl: ratings.url, viaProxy: false },
    },
  });
  const page = await startServer(createProductpageHandler({ client, ...(replies.timeoutMs ? { timeoutMs: replies.timeoutMs } : {}) }), { host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await page.close();
    await client.close();
    await Promise.all([details.close(), reviews.close(), ratings.close()]);
  });
  return { page, details, reviews, ratings };
}

async function html(url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await request(url, { headers });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /text\/html/);
  return res.body.text();
}

test('the product page shows title, details, reviews and "Reviews served by"', async (t) => {
  const f = await fixture(t);
  const page = await html(`${f.page.url}/productpage`);
  assert.match(page, /<title>Simple Bookstore App<\/title>/);
  assert.match(page, /The Comedy of Errors/);
  assert.match(page, /<dt>Publisher:<\/dt><dd>PublisherA<\/dd>/);
  assert.match(page, /<dt>ISBN-13:<\/dt><dd>123-1234567890<\/dd>/);
  assert.match(page, /Reviews served by: reviews-v9-abc</);
  assert.match(page, /text &lt;0&gt;/, 'review text is escaped');
  assert.doesNotMatch(page, /★|☆/, 'no stars without ratings');
  assert.doesNotMatch(page, /<script|<link /, 'self-contained');
  assert.deepEqual([f.details.requests[0]?.target, f.reviews.requests[0]?.target], ['/details/0', '/reviews/0']);
});

test('stars are drawn in the rating colour; rating errors are shown', async (t) => {
  const colors = ['red', 'black'];
  const f = await fixture(t, { reviews: (_q, res) => json(res, 200, reviewsBody((i) => ({ stars: 5 - i, color: colors[i] }))) });
  const page = await html(`${f.page.url}/productpage`);
  assert.match(page, /style="color: red"[^>]*>★★★★★</);
  assert.match(page, /style="color: black"[^>]*>★★★★☆</);

  const g = await fixture(t, { reviews: (_q, res) => json(res, 200, reviewsBody(() => ({ error: 'Ratings service is currently unavailable' }))) });
  const failed = await html(`${g.page.url}/productpage`);
  assert.equal(failed.split('Ratings service is currently unavailable').length - 1, 2);
});

test('reviews failing twice shows the reviews error texts; reviews is retried once', async (t) => {
  const f = await fixture(t, { reviews: (_q, res) => json(res, 503, { error: 'no healthy upstream' }) });
  const page = await html(`${f.page.url}/productpage`);
  assert.match(page, /Error fetching product reviews!/);
  assert.match(page, /Sorry, product reviews are currently unavailable for this book\./);
  assert.doesNotMatch(page, /Reviews served by/);
  assert.match(page, /PublisherA/, 'details still shown');
  assert.equal(f.reviews.requests.length, REVIEWS_ATTEMPTS);
  assert.equal(REVIEWS_ATTEMPTS, 2);
});

test('a retry that succeeds shows the reviews', async (t) => {
  let n = 0;
  const f = await fixture(t, { reviews: (_q, res) => (n++ === 0 ? json(res, 500, {}) : json(res, 200, reviewsBody())) });
  assert.match(await html(`${f.page.url}/productpage`), /Reviews served by: reviews-v9-abc/);
  assert.equal(f.reviews.requests.length, 2);
});

test('reviews timing out on both attempts fails the reviews part after two deadlines', async (t) => {
  assert.equal(CALL_TIMEOUT_MS, 3000);
  const f = await fixture(t, { timeoutMs: 300, reviews: () => undefined });
  const started = Date.now();
  const page = await html(`${f.page.url}/productpage`);
  const took = Date.now() - started;
  assert.ok(took >= 550 && took < 2000, `took ${took} ms`);
  assert.match(page, /Error fetching product reviews!/);
  assert.equal(f.reviews.requests.length, 2);
});

test('details failing shows the details error texts', async (t) => {
  const f = await fixture(t, { details: (_q, res) => json(res, 500, {}) });
  const page = await html(`${f.page.url}/productpage`);
  assert.match(page, /Error fetching product details!/);
  assert.match(page, /Sorry, product details are currently unavailable for this book\./);
  assert.equal(f.details.requests.length, 1, 'details is not retried');
  assert.match(page, /Reviews served by/);
});

test('login sets the user cookie; productpage then sends end-user; logout clears it', async (t) => {
  const f = await fixture(t);
  const form = await request(`${f.page.url}/login`);
  assert.match(await form.body.text(), /<form method="post" action="\/login">[\s\S]*name="username"/);

  const login = await request(`${f.page.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'username=jason&passwd=x',
  });
  await login.body.dump();
  assert.equal(login.statusCode, 302);
  assert.equal(login.headers.location, '/productpage');
  const setCookie = String(login.headers['set-cookie']);
  assert.match(setCookie, /^user=jason;/);
  const cookie = setCookie.split(';')[0] ?? '';

  const page = await html(`${f.page.url}/productpage`, { cookie });
  assert.match(page, /Signed in as: <b class="user">jason<\/b>/);
  assert.equal(f.reviews.requests[0]?.headers['end-user'], 'jason');
  assert.equal(f.details.requests[0]?.headers['end-user'], 'jason');

  const logout = await request(`${f.page.url}/logout`, { headers: { cookie } });
  await logout.body.dump();
  assert.equal(logout.statusCode, 302);
  assert.match(String(logout.headers['set-cookie']), /^user=; .*Max-Age=0/);
  await html(`${f.page.url}/productpage`);
  assert.equal(f.reviews.requests[1]?.headers['end-user'], undefined);

  const bad = await request(`${f.page.url}/login`, { method: 'POST', body: 'username=a%0d%0ab' });
  await bad.body.dump();
  assert.equal(bad.statusCode, 400);
});

test('trace headers and an incoming end-user are propagated to details and reviews', async (t) => {
  const f = await fixture(t);
  const headers = { 'x-request-id': 'r-1', 'x-b3-traceid': 'abc', 'x-b3-sampled': '1', traceparent: '00-1-2-01', 'end-user': 'alice', 'x-other': 'no' };
  await html(`${f.page.url}/productpage`, { ...headers, cookie: 'user=jason' });
  for (const s of [f.details, f.reviews]) {
    const seen = s.requests[0]?.headers ?? {};
    assert.equal(seen['x-request-id'], 'r-1');
    assert.equal(seen['x-b3-traceid'], 'abc');
    assert.equal(seen['x-b3-sampled'], '1');
    assert.equal(seen.traceparent, '00-1-2-01');
    assert.equal(seen['end-user'], 'alice', 'the caller\'s end-user wins over the session');
    assert.equal(seen['x-other'], undefined);
  }
});

test('JSON API: products, details, reviews and ratings pass status and body through', async (t) => {
  const f = await fixture(t);
  const get = async (p: string) => {
    const res = await request(`${f.page.url}${p}`);
    return { status: res.statusCode, body: (await res.body.json()) };
  };
  const products = await get('/api/v1/products');
  assert.equal(products.status, 200);
  assert.deepEqual((products.body as { id: number; title: string }[]).map((p) => [p.id, p.title]), [[0, 'The Comedy of Errors']]);
  assert.deepEqual(await get('/api/v1/products/0'), { status: 200, body: DETAILS });
  assert.deepEqual(await get('/api/v1/products/0/reviews'), { status: 200, body: reviewsBody() });
  assert.deepEqual(await get('/api/v1/products/0/ratings'), { status: 200, body: { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } } });
  assert.equal(f.ratings.requests[0]?.target, '/ratings/0');
  assert.equal((await get('/api/v1/products/x')).status, 400);
  assert.deepEqual(await get('/health'), { status: 200, body: { status: 'Product page is healthy' } });
  const css = await request(`${f.page.url}/static/bookinfo.css`);
  assert.match(String(css.headers['content-type']), /text\/css/);
  await css.body.dump();
});

test('the API reports the details error with the upstream status', async (t) => {
  const f = await fixture(t, { details: (_q, res) => json(res, 503, {}) });
  const res = await request(`${f.page.url}/api/v1/products/0`);
  assert.equal(res.statusCode, 503);
  assert.deepEqual(await res.body.json(), { error: 'Sorry, product details are currently unavailable for this book.' });
});
