import type { Participant, Room } from '@chat/client'
import { useChat } from '../chat.js'
import { useStore } from '../store.js'
import { isBlocked } from '../state/people.slice.js'
import { canRemove, canSetRole } from '../state/roles.js'

/**
 * The room's people with their roles, and what the caller may do to each:
 * only the buttons the server would allow (see state/roles.ts). `run` does
 * the call and shows its failure.
 */
export function ParticipantList({ room, busy, run }: { room: Room; busy: boolean; run: (action: () => Promise<void>) => void }) {
  const chat = useChat()
  const state = useStore(chat.store)
  const meId = state.session?.user.id
  const group = room.kind === 'group'

  function actions(participant: Participant) {
    const name = participant.display_name
    const blocked = isBlocked(state, participant.id)
    return (
      <span class="participant-actions">
        {canSetRole(room, meId, participant) &&
          (participant.role === 'member' ? (
            <button type="button" disabled={busy} aria-label={`Make ${name} an admin`} onClick={() => run(() => chat.setRole(room.id, participant.id, 'admin'))}>
              Make admin
            </button>
          ) : (
            <button type="button" disabled={busy} aria-label={`Make ${name} a member`} onClick={() => run(() => chat.setRole(room.id, participant.id, 'member'))}>
              Make member
            </button>
          ))}
        {canRemove(room, meId, participant) && (
          <button type="button" class="danger" disabled={busy} aria-label={`Remove ${name} from the room`} onClick={() => run(() => chat.removeParticipant(room.id, participant.id))}>
            Remove
          </button>
        )}
        {/* Blocking waits for the list, so that the button says the truth. */}
        {state.blocksLoaded && (
          <button
            type="button"
            disabled={busy}
            aria-label={`${blocked ? 'Unblock' : 'Block'} ${name}`}
            onClick={() => run(() => (blocked ? chat.unblock(participant.id) : chat.block(participant)))}
          >
            {blocked ? 'Unblock' : 'Block'}
          </button>
        )}
      </span>
    )
  }

  return (
    <ul class="participants">
      {room.participants.map((participant) => (
        <li key={participant.id} data-user-name={participant.display_name} data-role={participant.role}>
          <span class="participant-name">{participant.display_name}</span>
          {group && <span class={`role role-${participant.role}`}>{participant.role}</span>}
          {participant.id === meId ? <span class="muted">(you)</span> : actions(participant)}
        </li>
      ))}
    </ul>
  )
}
