// productpage's HTML: self-contained pages (inline stylesheet, no scripts) for the book, login form and index.
import type { Fetched, Product } from './backend.js';

export const PAGE_TITLE = 'Simple Bookstore App';

export const STYLESHEET = `
body { font-family: system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { background: #2b3e50; color: #fff; padding: .6rem 1.2rem; display: flex; justify-content: space-between; align-items: center; }
header a { color: #fff; }
main { max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; }
.columns { display: flex; gap: 2rem; flex-wrap: wrap; }
.columns > section { flex: 1 1 20rem; }
dl { display: grid; grid-template-columns: max-content auto; gap: .3rem 1rem; }
dt { font-weight: bold; }
blockquote { margin: 0 0 1rem; padding: .5rem 1rem; border-left: 4px solid #ccc; background: #fff; }
.reviewer { font-style: italic; }
.stars { font-size: 1.3rem; letter-spacing: .1rem; }
.error { color: #b00020; }
.served-by { color: #555; }
form { display: grid; gap: .6rem; max-width: 20rem; }
`;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

function layout(body: string, user: string | undefined): string {
  const account = user
    ? `<span>Signed in as: <b class="user">${escapeHtml(user)}</b> · <a href="/logout">Sign out</a></span>`
    : `<a href="/login">Sign in</a>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${PAGE_TITLE}</title>
<style>${STYLESHEET}</style>
</head>
<body>
<header><a href="/productpage"><b>BookInfo Sample</b></a>${account}</header>
<main>
${body}
</main>
</body>
</html>
`;
}

export interface ProductPageView {
  product: Product;
  user?: string | undefined;
  details: Fetched;
  reviews: Fetched;
}

export function renderProductPage(v: ProductPageView): string {
  const body = `<h1>${escapeHtml(v.product.title)}</h1>
<p class="summary">${v.product.descriptionHtml}</p>
<div class="columns">
<section class="details">
${renderDetails(v.details)}
</section>
<section class="reviews">
${renderReviews(v.reviews)}
</section>
</div>`;
  return layout(body, v.user);
}

function errorOf(body: unknown, fallback: string): string {
  const e = field(body, 'error');
  return typeof e === 'string' ? e : fallback;
}

function field(o: unknown, k: string): unknown {
  return typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined;
}

function text(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' ? escapeHtml(String(v)) : '';
}

const DETAIL_ROWS: readonly [string, string][] = [
  ['Author', 'author'],
  ['Year', 'year'],
  ['Type', 'type'],
  ['Pages', 'pages'],
  ['Publisher', 'publisher'],
  ['Language', 'language'],
  ['ISBN-10', 'ISBN-10'],
  ['ISBN-13', 'ISBN-13'],
];

function renderDetails(d: Fetched): string {
  if (d.status !== 200) {
    return `<h2 class="error">Error fetching product details!</h2>
<p class="error">${escapeHtml(errorOf(d.body, 'Sorry, product details are currently unavailable for this book.'))}</p>`;
  }
  const rows = DETAIL_ROWS.filter(([, k]) => field(d.body, k) !== undefined)
    .map(([label, k]) => `<dt>${label}:</dt><dd>${text(field(d.body, k))}</dd>`)
    .join('\n');
  return `<h2>Book Details</h2>\n<dl>\n${rows}\n</dl>`;
}

function renderReviews(r: Fetched): string {
  if (r.status !== 200) {
    return `<h2 class="error">Error fetching product reviews!</h2>
<p class="error">${escapeHtml(errorOf(r.body, 'Sorry, product reviews are currently unavailable for this book.'))}</p>`;
  }
  const list = field(r.body, 'reviews');
  const items = Array.isArray(list) ? list.map(renderReview).join('\n') : '';
  const pod = text(field(r.body, 'podname'));
  const cluster = field(r.body, 'clustername');
  const onCluster = typeof cluster === 'string' && cluster !== 'null' && cluster !== '' ? ` on cluster ${escapeHtml(cluster)}` : '';
  return `<h2>Book Reviews</h2>
${items}
<p class="served-by">Reviews served by: ${pod}${onCluster}</p>`;
}

function renderReview(rv: unknown): string {
  const rating = field(rv, 'rating');
  let ratingHtml = '';
  const stars = field(rating, 'stars');
  const err = field(rating, 'error');
  if (typeof stars === 'number') {
    const n = Math.max(0, Math.min(5, Math.round(stars)));
    const color = field(rating, 'color');
    const c = typeof color === 'string' && /^[a-z]+$/i.test(color) ? color : 'black';
    ratingHtml = `<p class="stars stars-${c}" style="color: ${c}" title="${n} of 5 stars">${'★'.repeat(n)}${'☆'.repeat(5 - n)}</p>`;
  } else if (typeof err === 'string') {
    ratingHtml = `<p class="error rating-error">${escapeHtml(err)}</p>`;
  }
  return `<blockquote>
<p>${text(field(rv, 'text'))}</p>
<p class="reviewer">— ${text(field(rv, 'reviewer'))}</p>
${ratingHtml}
</blockquote>`;
}

export function renderLogin(user: string | undefined): string {
  const body = `<h1>Sign in</h1>
<p>Any user name works; no password is checked. productpage then sends <code>end-user: &lt;name&gt;</code> to reviews.</p>
<form method="post" action="/login">
<label>User name <input type="text" name="username" autofocus></label>
<label>Password <input type="password" name="passwd"></label>
<button type="submit">Sign in</button>
</form>`;
  return layout(body, user);
}

export function renderIndex(user: string | undefined): string {
  const body = `<h1>Hello!</h1>
<p>This is a small bookstore made of four services: <b>productpage</b> shows a book using <b>details</b> and
<b>reviews</b>, and reviews v2 and v3 ask <b>ratings</b> for stars. Try the page as different users to see the mesh route them.</p>
<ul>
<li><a href="/productpage">Open the book page</a></li>
<li><a href="/login">Sign in</a> (then reviews may be routed by the <code>end-user</code> header)</li>
<li><a href="/api/v1/products">The products API</a></li>
</ul>`;
  return layout(body, user);
}
