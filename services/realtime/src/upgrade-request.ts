import { Compile } from 'typebox/compile'
import { bearerToken } from '@chat/service-kit'
import { AfterSeqText, RoomSocketParams } from './sockets.schemas.js'

/** What a session needs of the upgrade request (which it does not keep). */
export interface UpgradeRequest {
  readonly id: string
  readonly headers: Record<string, string | string[] | undefined>
  readonly query: unknown
  /** The upgrade's IncomingMessage, whose socket the WebSocket now owns. */
  readonly raw?: { readonly socket?: unknown }
}

const afterSeqCheck = Compile(AfterSeqText)
const roomIdCheck = Compile(RoomSocketParams.properties.room_id)

/** The token of an upgrade request: `Authorization`, the `bearer, <token>` subprotocol pair, or `?token=`. */
export function socketToken(request: UpgradeRequest): string | undefined {
  const authorization = request.headers.authorization
  const fromHeader = bearerToken(typeof authorization === 'string' ? authorization : undefined)
  if (fromHeader) return fromHeader
  const protocols = request.headers['sec-websocket-protocol']
  if (typeof protocols === 'string') {
    const [first, second] = protocols.split(',').map((part) => part.trim())
    if (first?.toLowerCase() === 'bearer' && second) return second
  }
  const query = request.query as { token?: unknown } | undefined
  return typeof query?.token === 'string' && query.token !== '' ? query.token : undefined
}

/** `?after_seq=` of a room socket: undefined when absent, null when malformed. */
export function afterSeqOf(query: unknown): number | undefined | null {
  const raw = (query as { after_seq?: unknown } | undefined)?.after_seq
  if (raw === undefined) return undefined
  if (!afterSeqCheck.Check(raw)) return null
  const value = Number(raw)
  return Number.isSafeInteger(value) ? value : null
}

export function isRoomId(value: string): boolean {
  return roomIdCheck.Check(value)
}
