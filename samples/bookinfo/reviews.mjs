// Bookinfo `reviews`: two reviews of the book. The version ($SERVICE_VERSION) decides the stars:
// v1 none, v2 black stars, v3 red stars (v2 and v3 call `ratings`). GET /reviews/:id
import { callService, idFrom, identity, sendJson, serve } from './lib.mjs'

const STAR_COLOR = { v2: 'black', v3: 'red' }
const REVIEWS = [
  { reviewer: 'Reviewer1', text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!' },
  { reviewer: 'Reviewer2', text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.' }
]

serve(async (req, res, url) => {
  const id = idFrom(url.pathname, '/reviews')
  if (id === null) return sendJson(res, 404, { error: 'not found' })
  const color = STAR_COLOR[identity.version]
  const errors = []
  let ratings = null
  if (color !== undefined) {
    try {
      const r = await callService(req, 'ratings', `/ratings/${id}`)
      if (r.status === 200 && typeof r.body === 'object') ratings = r.body.ratings
      else errors.push(`ratings answered ${r.status}${r.headers['x-meshwork-error'] ? ` (${r.headers['x-meshwork-error']})` : ''}`)
    } catch (err) {
      errors.push(`ratings unreachable: ${err.code || err.message}`)
    }
  }
  const reviews = REVIEWS.map(r => {
    if (color === undefined) return { ...r }
    if (ratings === null) return { ...r, rating: { error: 'Ratings service is currently unavailable' } }
    return { ...r, rating: { stars: ratings[r.reviewer], color } }
  })
  sendJson(res, 200, { id, reviewsVersion: identity.version, instance: identity.instance, reviews, errors })
})
