import type { Room } from '@chat/client'
import { seenBy } from '../state/presence.slice.js'

/** "Seen by Bob, Cat" under a message: the others whose read position reached its seq. */
export function SeenBy({ room, seq, meId }: { room: Room; seq: number; meId: string | undefined }) {
  const readers = seenBy(room, seq, meId)
  if (readers.length === 0) return null
  const everyone = readers.length === room.participants.filter((participant) => participant.id !== meId).length && readers.length > 1
  return (
    <p class="seen-by" aria-live="polite">
      {everyone ? 'Seen by everyone' : `Seen by ${readers.map((participant) => participant.display_name).join(', ')}`}
    </p>
  )
}
