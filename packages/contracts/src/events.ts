import { Type, type Static } from 'typebox'
import { Seq, Timestamp, Uuid } from './common.js'

/**
 * The envelope of a room event. It travels in NATS headers, so that the
 * gateway can route and order events without parsing their payload.
 */
export const EventEnvelope = Type.Object({
  event_id: Type.String({ description: '`<room_id>:<seq>`: also the JetStream message id' }),
  room_id: Uuid,
  seq: Seq,
  type: Type.String(),
  time: Timestamp,
  request_id: Type.Optional(Type.String())
})
export type EventEnvelope = Static<typeof EventEnvelope>

/** NATS header names that carry the envelope. */
export const envelopeHeaders = {
  eventId: 'Chat-Event-Id',
  roomId: 'Chat-Room-Id',
  seq: 'Chat-Seq',
  type: 'Chat-Event-Type',
  time: 'Chat-Time',
  requestId: 'Chat-Request-Id'
} as const

/** The id that makes a re-published event a JetStream duplicate. */
export function roomEventId(roomId: string, seq: number): string {
  return `${roomId}:${seq}`
}

/** Turns an envelope into the header map that travels with the payload. */
export function envelopeToHeaders(envelope: EventEnvelope): Record<string, string> {
  const headers: Record<string, string> = {
    [envelopeHeaders.eventId]: envelope.event_id,
    [envelopeHeaders.roomId]: envelope.room_id,
    [envelopeHeaders.seq]: String(envelope.seq),
    [envelopeHeaders.type]: envelope.type,
    [envelopeHeaders.time]: envelope.time
  }
  if (envelope.request_id !== undefined) headers[envelopeHeaders.requestId] = envelope.request_id
  return headers
}

/** Reads an envelope back from headers; undefined when a required header is missing or malformed. */
export function envelopeFromHeaders(get: (name: string) => string | undefined): EventEnvelope | undefined {
  const eventId = get(envelopeHeaders.eventId)
  const roomId = get(envelopeHeaders.roomId)
  const seqText = get(envelopeHeaders.seq)
  const type = get(envelopeHeaders.type)
  const time = get(envelopeHeaders.time)
  if (!eventId || !roomId || !seqText || !type || !time) return undefined
  const seq = Number(seqText)
  if (!Number.isSafeInteger(seq) || seq < 0) return undefined
  const requestId = get(envelopeHeaders.requestId)
  return { event_id: eventId, room_id: roomId, seq, type, time, ...(requestId ? { request_id: requestId } : {}) }
}
