import { Type, type Static } from 'typebox'
import { Uuid, limits, storableTextPattern } from './common.js'
import { Message } from './messages.js'
import { RoomKind } from './rooms.js'

/** `GET /search/messages/`: words to find, where, and the page. */
export const SearchMessagesQuery = Type.Object(
  {
    q: Type.String({
      minLength: 1,
      maxLength: limits.searchQueryChars,
      pattern: storableTextPattern,
      description: `1..${limits.searchQueryChars} characters with at least one word; every word must occur, the last one as a prefix`
    }),
    room_id: Type.Optional(Type.String({ format: 'uuid', description: 'only this room (participants only)' })),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: limits.searchPageMax, default: limits.searchPageDefault, description: `hits per page, 1..${limits.searchPageMax}` })
    ),
    before: Type.Optional(Type.String({ format: 'uuid', description: 'the id of the last hit of the previous page (from the Link header)' }))
  },
  { additionalProperties: false }
)
export type SearchMessagesQuery = Static<typeof SearchMessagesQuery>

/** Where a hit was found: enough to show and open its room. */
export const SearchHitRoom = Type.Object({ id: Uuid, kind: RoomKind, name: Type.String() })
export type SearchHitRoom = Static<typeof SearchHitRoom>

/** A piece of the message's text around the matches; each mark is a match, as `[start, end)` UTF-16 offsets into `text`. */
export const SearchHighlight = Type.Object({
  text: Type.String(),
  marks: Type.Array(Type.Object({ start: Type.Integer({ minimum: 0 }), end: Type.Integer({ minimum: 0 }) }))
})
export type SearchHighlight = Static<typeof SearchHighlight>

export const SearchHit = Type.Object({ message: Message, room: SearchHitRoom, highlight: SearchHighlight })
export type SearchHit = Static<typeof SearchHit>
