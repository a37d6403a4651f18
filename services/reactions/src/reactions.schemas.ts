import { Type, type Static } from 'typebox'
import { ProblemDetails, Reaction, Uuid } from '@chat/contracts'
import type { ReactionList } from './reaction-list.js'

const tags = ['reactions']
const security = [{ bearer: [] }]

export const MessageReactionParams = Type.Object({ message_id: Uuid }, { additionalProperties: false })
export type MessageReactionParams = Static<typeof MessageReactionParams>

/** The body of `POST /messages/:message_id/reaction/`, with the allowed names of `list` as its enum. */
export function setReactionBody(list: ReactionList) {
  return Type.Object(
    {
      reaction: Type.Enum([...list.names], {
        type: 'string',
        description: 'one of the names of `GET /emoji/`, case-sensitive; any other value is 400 `invalid_reaction` with `allowed`'
      })
    },
    { additionalProperties: false }
  )
}
export type SetReactionBody = { reaction: string }

const messageErrors = { 400: ProblemDetails, 401: ProblemDetails, 403: ProblemDetails, 404: ProblemDetails, 429: ProblemDetails }

const orderOfChecks =
  'Participants of the message\'s room only. Checks in order: token (401), the message exists (404 `message_not_found`), ' +
  'the caller participates in its room (403 `not_a_member`), the message is not deleted (404 `message_not_found`).'

/** Route schemas of the reactions of a message; the POST body's enum comes from the reaction list. */
export function reactionsSchemas(list: ReactionList) {
  return {
    listReactions: {
      operationId: 'listReactions',
      tags,
      summary: 'Every reaction on a message, oldest first',
      description: orderOfChecks,
      security,
      params: MessageReactionParams,
      response: { 200: Type.Array(Reaction), ...messageErrors }
    },
    setReaction: {
      operationId: 'setReaction',
      tags,
      summary: 'Add the caller\'s reaction to a message (201), or replace it (200)',
      description:
        `${orderOfChecks} Then a name outside the reaction list is 400 \`invalid_reaction\` with \`allowed\`. ` +
        'One reaction per user and message: a new one answers 201, a different one replaces it and answers 200; both ' +
        'publish `reaction.updated` with the room\'s next seq and the message\'s counts after the change. ' +
        'The same reaction again answers 200, changes nothing and publishes nothing.',
      security,
      params: MessageReactionParams,
      body: setReactionBody(list),
      response: { 200: Reaction, 201: Reaction, ...messageErrors, 413: ProblemDetails, 415: ProblemDetails }
    },
    removeReaction: {
      operationId: 'removeReaction',
      tags,
      summary: 'Remove the caller\'s reaction from a message',
      description:
        `${orderOfChecks} No reaction of the caller: 404 \`reaction_not_found\`. ` +
        'Publishes `reaction.updated` with `reaction: null` and the message\'s counts after the change.',
      security,
      params: MessageReactionParams,
      response: { 204: Type.Null(), ...messageErrors }
    }
  }
}
