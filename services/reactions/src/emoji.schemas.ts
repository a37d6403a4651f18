import { Type } from 'typebox'
import { ReactionListEntry } from '@chat/contracts'

export const listEmojiSchema = {
  operationId: 'listEmoji',
  tags: ['reactions'],
  summary: 'The allowed reactions, in the order to show them',
  description:
    'Public (no token). The list is `reaction_list.json`, read once when the service starts. Strong `ETag` and ' +
    '`Cache-Control: public, max-age=3600`; `If-None-Match` with the current ETag gives 304. Not rate limited.',
  response: { 200: Type.Array(ReactionListEntry), 304: Type.Null() }
}
