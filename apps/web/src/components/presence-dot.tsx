import type { Participant } from '@chat/client'

/** "last seen 5 min ago", for a title; empty when the server has never seen them. */
export function lastSeenText(participant: Pick<Participant, 'online' | 'last_seen_at'>, now = Date.now()): string {
  if (participant.online) return 'online'
  if (!participant.last_seen_at) return 'offline'
  const minutes = Math.round((now - Date.parse(participant.last_seen_at)) / 60_000)
  if (minutes < 1) return 'last seen just now'
  if (minutes < 60) return `last seen ${minutes} min ago`
  const hours = Math.round(minutes / 60)
  return hours < 48 ? `last seen ${hours} h ago` : `last seen ${new Date(participant.last_seen_at).toLocaleDateString()}`
}

/** A green dot for someone online, a hollow one otherwise; the words are for screen readers and the tooltip. */
export function PresenceDot({ participant }: { participant: Participant }) {
  const text = lastSeenText(participant)
  return (
    <span class={participant.online ? 'presence-dot online' : 'presence-dot'} title={text} data-online={participant.online ? 'true' : 'false'}>
      <span class="visually-hidden">{text}</span>
    </span>
  )
}

/** The room's participants in a line, each with their dot (the caller without one). */
export function ParticipantsLine({ participants, meId }: { participants: readonly Participant[]; meId: string | undefined }) {
  return (
    <span class="room-meta participants-line">
      {participants.map((participant, index) => (
        <span key={participant.id} class="participant-name" data-user-id={participant.id}>
          {index > 0 && ', '}
          {participant.id !== meId && <PresenceDot participant={participant} />}
          {participant.display_name}
        </span>
      ))}
    </span>
  )
}
