import { Type, type Static } from 'typebox'
import { Timestamp, Uuid, storableTextPattern } from './common.js'
import { User } from './identity.js'

/** One user's reaction to one message. */
export const Reaction = Type.Object({
  message_id: Uuid,
  user: User,
  reaction: Type.String({ description: 'a name of `GET /emoji/`' }),
  created_at: Timestamp,
  updated_at: Timestamp
})
export type Reaction = Static<typeof Reaction>

/** One allowed reaction: its stable `name` (what clients send), the emoji to show, and a label for screen readers. */
export const ReactionListEntry = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 32,
      pattern: '^[a-z0-9_-]+$',
      description: 'the name clients send and counts are keyed by; lower-case letters, digits, `_` and `-`'
    }),
    emoji: Type.String({ minLength: 1, maxLength: 32, pattern: storableTextPattern }),
    label: Type.String({ minLength: 1, maxLength: 64, pattern: storableTextPattern })
  },
  { additionalProperties: false }
)
export type ReactionListEntry = Static<typeof ReactionListEntry>
