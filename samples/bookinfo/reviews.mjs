// Bookinfo `reviews`: two reviews of the book. The version ($SERVICE_VERSION) decides the stars:
// v1 none, v2 black stars from `ratings` (HTTP), v3 red stars from `stars` (gRPC, stars.proto). GET /reviews/:id
import { callService, idFrom, identity, sendJson, serve } from './lib.mjs'

const STAR_COLOR = { v2: 'black', v3: 'red' }
const REVIEWS = [
  { reviewer: 'Reviewer1', text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!' },
  { reviewer: 'Reviewer2', text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.' }
]

// Only v3 speaks gRPC: the other versions never load @grpc/grpc-js.
const grpc = identity.version === 'v3' ? await import('./grpc.mjs') : null

/** v2: GET ratings:9080/ratings/:id → `{ ratings }`, or `{ error }`. */
async function fromRatings (req, id) {
  try {
    const r = await callService(req, 'ratings', `/ratings/${id}`)
    if (r.status === 200 && typeof r.body === 'object') return { ratings: r.body.ratings }
    return { error: `ratings answered ${r.status}${r.headers['x-meshwork-error'] ? ` (${r.headers['x-meshwork-error']})` : ''}` }
  } catch (err) {
    return { error: `ratings unreachable: ${err.code || err.message}` }
  }
}

/** v3: bookinfo.stars.v1.Stars/GetStars on stars:9080 → `{ ratings, from }`, or `{ error }` naming the gRPC status. */
async function fromStars (req, id) {
  try {
    const reply = await grpc.getStars(req, id)
    return { ratings: reply.stars, from: `stars ${reply.version} (${reply.instance})` }
  } catch (err) {
    const status = grpc.grpc.status[err.code] ?? err.code
    return { error: `stars answered gRPC ${status}: ${err.details || err.message}` }
  }
}

serve(async (req, res, url) => {
  const id = idFrom(url.pathname, '/reviews')
  if (id === null) return sendJson(res, 404, { error: 'not found' })
  const color = STAR_COLOR[identity.version]
  const errors = []
  let ratings = null
  let ratingsFrom
  if (color !== undefined) {
    const r = identity.version === 'v3' ? await fromStars(req, id) : await fromRatings(req, id)
    if (r.error !== undefined) errors.push(r.error)
    else { ratings = r.ratings; ratingsFrom = r.from }
  }
  const reviews = REVIEWS.map(r => {
    if (color === undefined) return { ...r }
    if (ratings === null) return { ...r, rating: { error: 'Ratings service is currently unavailable' } }
    return { ...r, rating: { stars: ratings[r.reviewer], color } }
  })
  sendJson(res, 200, { id, reviewsVersion: identity.version, instance: identity.instance, reviews, errors, ...(ratingsFrom !== undefined ? { ratingsFrom } : {}) })
})
