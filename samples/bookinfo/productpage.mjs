// Bookinfo `productpage`: the page users see. Calls `details` and `reviews` for each request.
//   GET /productpage                 HTML (marker: <!-- reviews-version: vN --> and data-reviews-version)
//   GET /api/v1/products             product list
//   GET /api/v1/products/:id         JSON: product, details, reviews, reviewsVersion, ratingsFrom, errors
//   GET /api/v1/products/:id/reviews the reviews service's answer
//   GET /static/style.css            a stylesheet
import { callService, identity, sendJson, sendText, serve } from './lib.mjs'

const PRODUCTS = [{ id: 0, title: 'The Comedy of Errors', descriptionHtml: 'A <a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">comedy</a> by William Shakespeare.' }]
const CSS = 'body{font-family:sans-serif;max-width:48rem;margin:2rem auto}.black{color:#222}.red{color:#c00}.error{color:#a60}\n'

async function fetchPart (req, service, path) {
  try {
    const r = await callService(req, service, path)
    if (r.status === 200 && typeof r.body === 'object' && r.body !== null) return { ok: true, body: r.body }
    return { ok: false, error: `${service} answered ${r.status}${r.headers['x-meshwork-error'] ? ` (${r.headers['x-meshwork-error']})` : ''}` }
  } catch (err) {
    return { ok: false, error: `${service} unreachable: ${err.code || err.message}` }
  }
}

/** Everything the page shows for one product; `errors` lists every part that failed, downstream ones included. */
async function product (req, id) {
  const [details, reviews] = await Promise.all([
    fetchPart(req, 'details', `/details/${id}`),
    fetchPart(req, 'reviews', `/reviews/${id}`)
  ])
  const errors = []
  if (!details.ok) errors.push(details.error)
  if (!reviews.ok) errors.push(reviews.error)
  else if (Array.isArray(reviews.body.errors)) errors.push(...reviews.body.errors)
  return {
    id,
    product: PRODUCTS[id],
    details: details.ok ? details.body : null,
    reviews: reviews.ok ? reviews.body.reviews : null,
    reviewsVersion: reviews.ok ? reviews.body.reviewsVersion : null,
    reviewsInstance: reviews.ok ? reviews.body.instance : null,
    /** Which stars instance answered reviews v3's gRPC call (null for the other versions). */
    ratingsFrom: reviews.ok ? reviews.body.ratingsFrom ?? null : null,
    productpageInstance: identity.instance,
    errors
  }
}

function escapeHtml (s) {
  return String(s).replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`)
}

function renderPage (p) {
  const stars = r => r.rating === undefined
    ? ''
    : r.rating.error !== undefined
      ? `<p class="error">${escapeHtml(r.rating.error)}</p>`
      : `<p class="${escapeHtml(r.rating.color)}">${'★'.repeat(r.rating.stars)}${'☆'.repeat(5 - r.rating.stars)}</p>`
  const details = p.details === null
    ? '<p class="error">Sorry, product details are currently unavailable for this book.</p>'
    : `<dl>${['type', 'pages', 'publisher', 'language', 'ISBN-10', 'ISBN-13'].map(k => `<dt>${k}</dt><dd>${escapeHtml(p.details[k])}</dd>`).join('')}</dl>`
  const reviews = p.reviews === null
    ? '<p class="error">Sorry, product reviews are currently unavailable for this book.</p>'
    : p.reviews.map(r => `<blockquote><p>${escapeHtml(r.text)}</p><small>${escapeHtml(r.reviewer)}</small>${stars(r)}</blockquote>`).join('\n')
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Simple Bookstore App</title><link rel="stylesheet" href="/static/style.css"></head>
<body data-reviews-version="${escapeHtml(p.reviewsVersion ?? 'none')}">
<!-- reviews-version: ${escapeHtml(p.reviewsVersion ?? 'none')} -->
<h1>${escapeHtml(p.product.title)}</h1>
<p>${p.product.descriptionHtml}</p>
<h2>Book Details</h2>
${details}
<h2>Book Reviews</h2>
${reviews}
<footer><small>productpage ${escapeHtml(p.productpageInstance)} · reviews ${escapeHtml(p.reviewsVersion ?? '-')} (${escapeHtml(p.reviewsInstance ?? '-')})${p.ratingsFrom ? ` · ${escapeHtml(p.ratingsFrom)} over gRPC` : ''}</small></footer>
</body></html>
`
}

serve(async (req, res, url) => {
  const path = url.pathname
  if (path === '/' || path === '/productpage') {
    return sendText(res, 200, 'text/html; charset=utf-8', renderPage(await product(req, 0)))
  }
  if (path === '/api/v1/products') return sendJson(res, 200, PRODUCTS.map(p => ({ id: p.id, title: p.title })))
  if (path === '/static/style.css') return sendText(res, 200, 'text/css', CSS)
  const m = /^\/api\/v1\/products\/([0-9]+)(\/reviews)?$/.exec(path)
  if (m !== null) {
    const id = Number(m[1])
    if (PRODUCTS[id] === undefined) return sendJson(res, 404, { error: 'no such product' })
    if (m[2] === '/reviews') {
      const r = await fetchPart(req, 'reviews', `/reviews/${id}`)
      return r.ok ? sendJson(res, 200, r.body) : sendJson(res, 503, { error: r.error })
    }
    return sendJson(res, 200, await product(req, id))
  }
  sendJson(res, 404, { error: 'not found' })
})
