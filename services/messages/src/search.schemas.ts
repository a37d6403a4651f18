import { Type } from 'typebox'
import { ProblemDetails, SearchHit, SearchMessagesQuery } from '@chat/contracts'

export const searchMessagesSchema = {
  operationId: 'searchMessages',
  tags: ['messages'],
  summary: 'Messages with every word of q (the last as a prefix) in the rooms the caller belongs to now, newest first',
  description:
    'PostgreSQL full-text search under the language-neutral `simple` configuration: words are lower-cased, never stemmed, ' +
    'and none is a stop word. Deleted messages are left out; an edit is found by its new text. `room_id` narrows it to one ' +
    'room (404 `room_not_found`, 403 `not_a_member`). Each hit carries its room and a piece of its text with the matches as ' +
    '`marks` (UTF-16 offsets). An empty, blank or over-long `q`, or one without any word: 400. When there are more hits, ' +
    'the `Link` header carries `rel="next"` with the `before` of the next page.',
  security: [{ bearer: [] }],
  querystring: SearchMessagesQuery,
  response: {
    200: Type.Array(SearchHit),
    400: ProblemDetails,
    401: ProblemDetails,
    403: ProblemDetails,
    404: ProblemDetails,
    429: ProblemDetails
  }
}
