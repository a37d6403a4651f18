import type { Room } from '@chat/contracts'
import type { PresenceReader } from '@chat/service-kit'

/**
 * Marks who is online among the participants of a room response (a `Room`,
 * or a list of them): `online` from the gateways' presence (NATS), and
 * `last_seen_at` now for those online (the stored one is when they were last
 * seen going). Only views of a reader carry `last_seen_at`; event payloads
 * never pass through here.
 */
export function addPresence(payload: unknown, presence: PresenceReader, now = new Date()): void {
  const rooms = Array.isArray(payload) ? payload : [payload]
  const nowText = now.toISOString()
  for (const room of rooms as Array<Partial<Room> | null>) {
    if (!room || !Array.isArray(room.participants)) continue
    for (const participant of room.participants) {
      if (participant.last_seen_at === undefined) continue
      const online = presence.isOnline(participant.id)
      participant.online = online
      if (online) participant.last_seen_at = nowText
    }
  }
}
