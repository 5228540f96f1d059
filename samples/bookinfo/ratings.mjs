// Bookinfo `ratings`: stars per reviewer. GET /ratings/:id
import { idFrom, identity, sendJson, serve } from './lib.mjs'

serve((_req, res, url) => {
  const id = idFrom(url.pathname, '/ratings')
  if (id === null) return sendJson(res, 404, { error: 'not found' })
  sendJson(res, 200, { id, ratings: { Reviewer1: 5, Reviewer2: 4 }, ratingsVersion: identity.version, instance: identity.instance })
})
