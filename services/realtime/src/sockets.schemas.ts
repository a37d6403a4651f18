import { Type, type Static } from 'typebox'
import { Uuid } from '@chat/contracts'

const tags = ['realtime']
const security = [{ bearer: [] }]

export const SocketToken = Type.String({
  description: 'the access token, for browsers (redacted from logs); `Authorization: Bearer` or the `bearer, <token>` subprotocol pair also carry it'
})

/** Digits only: `Number()` would also take `1e3`, ` 7` or `0x10`. */
export const AfterSeqText = Type.String({
  pattern: '^\\d{1,16}$',
  description: 'resume: replay the events with a greater seq first; malformed closes with 1008'
})

export const SocketQuery = Type.Object({ token: Type.Optional(SocketToken) })
export type SocketQuery = Static<typeof SocketQuery>

export const RoomSocketQuery = Type.Object({ token: Type.Optional(SocketToken), after_seq: Type.Optional(AfterSeqText) })
export type RoomSocketQuery = Static<typeof RoomSocketQuery>

export const RoomSocketParams = Type.Object({ room_id: Uuid })
export type RoomSocketParams = Static<typeof RoomSocketParams>

// A refused socket is accepted first, then closed with its code (browsers can
// read a close code, not an HTTP status): the routes attach validation
// errors instead of answering 400, and the session checks each field itself.

export const openSocketSchema = {
  operationId: 'openSocket',
  tags,
  summary: 'WebSocket upgrade: any number of rooms (subscribe and unsubscribe frames)',
  description: 'Frames and close codes: api.md, "Realtime (WebSocket)". A bad or missing token closes with 4401 after the upgrade.',
  security,
  querystring: SocketQuery
}

export const openRoomSocketSchema = {
  operationId: 'openRoomSocket',
  tags,
  summary: 'WebSocket upgrade: one room, resumable with after_seq',
  description: 'A malformed or unknown room id closes with 4404 after the upgrade, an outsider with 4403, a malformed after_seq with 1008.',
  security,
  params: RoomSocketParams,
  querystring: RoomSocketQuery
}
