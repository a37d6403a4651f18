import type { RoomsInvite } from '@chat/client'
import { useEffect, useState } from 'preact/hooks'
import { describeError, useChat } from '../chat.js'
import { useStore } from '../store.js'

const invites: { value: RoomsInvite; label: string }[] = [
  { value: 'anyone', label: 'Anyone' },
  { value: 'nobody', label: 'Nobody' }
]

/** The caller's consent: who may put them into group rooms, and the people they blocked. */
export function PeopleSettings() {
  const chat = useChat()
  const state = useStore(chat.store)
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  // The choice shows what was asked for until the server answers.
  const [asked, setAsked] = useState<RoomsInvite | null>(null)
  const roomsInvite = asked ?? state.roomsInvite

  // Read once at sign-in; opening the panel reads again (another device may have changed them).
  useEffect(() => void chat.loadPeople(), [chat])

  function run(action: () => Promise<void>) {
    setBusy(true)
    setError(null)
    action()
      .catch((failure: unknown) => setError(describeError(failure)))
      .finally(() => setBusy(false))
  }

  return (
    <section id="people-settings" class="card people-settings" aria-labelledby="people-settings-title">
      <h2 id="people-settings-title">Settings</h2>
      <fieldset disabled={busy || state.roomsInvite === null}>
        <legend>Who can add me to group rooms</legend>
        {invites.map((invite) => (
          <label key={invite.value} class="check-row">
            <input
              type="radio"
              name="rooms-invite"
              value={invite.value}
              checked={roomsInvite === invite.value}
              onChange={() => {
                setAsked(invite.value)
                run(() => chat.setRoomsInvite(invite.value).finally(() => setAsked(null)))
              }}
            />
            {invite.label}
          </label>
        ))}
        <p class="muted">Anyone you have not blocked can still message you directly.</p>
      </fieldset>
      <h3 id="blocked-title">Blocked people</h3>
      {state.blocksLoaded && state.blocks.length === 0 && <p class="muted">You have blocked nobody.</p>}
      <ul class="blocked" aria-labelledby="blocked-title">
        {state.blocks.map((block) => (
          <li key={block.user.id}>
            <span>{block.user.display_name}</span>
            <button type="button" disabled={busy} aria-label={`Unblock ${block.user.display_name}`} onClick={() => run(() => chat.unblock(block.user.id))}>
              Unblock
            </button>
          </li>
        ))}
      </ul>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  )
}
