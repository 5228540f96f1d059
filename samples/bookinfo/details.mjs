// Bookinfo `details`: the book's facts. GET /details/:id
import { idFrom, identity, sendJson, serve } from './lib.mjs'

serve((_req, res, url) => {
  const id = idFrom(url.pathname, '/details')
  if (id === null) return sendJson(res, 404, { error: 'not found' })
  sendJson(res, 200, {
    id,
    author: 'William Shakespeare',
    year: 1595,
    type: 'paperback',
    pages: 200,
    publisher: 'PublisherA',
    language: 'English',
    'ISBN-10': '1234567890',
    'ISBN-13': '123-1234567890',
    detailsVersion: identity.version,
    instance: identity.instance
  })
})
