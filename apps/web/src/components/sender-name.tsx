import type { User } from '@chat/client'
import { useEffect, useRef, useState } from 'preact/hooks'
import { describeError, useChat } from '../chat.js'
import { useStore } from '../store.js'
import { isBlocked } from '../state/people.slice.js'

/**
 * A message's sender: for someone else, a button that opens what one can do
 * about them (block or unblock), so that a stranger who writes can be
 * stopped from where they wrote.
 */
export function SenderName({ sender }: { sender: User }) {
  const chat = useChat()
  const state = useStore(chat.store)
  const [open, setOpen] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const actionRef = useRef<HTMLButtonElement>(null)
  const name = sender.display_name

  // Focus goes to the action once, when the menu opens: not on every render, which would take it from the composer.
  useEffect(() => {
    if (open) actionRef.current?.focus()
  }, [open])

  if (sender.id === chat.me?.id || !state.blocksLoaded) return <span class="sender">{name}</span>
  const blocked = isBlocked(state, sender.id)

  function toggleBlock() {
    setBusy(true)
    setError(null)
    ;(blocked ? chat.unblock(sender.id) : chat.block(sender))
      .then(() => setOpen(false), (failure: unknown) => setError(describeError(failure)))
      .finally(() => setBusy(false))
  }

  return (
    <span class="sender-menu" onKeyDown={(event) => event.key === 'Escape' && setOpen(false)}>
      <button type="button" class="link-button sender" aria-expanded={open} aria-haspopup="true" onClick={() => setOpen(!open)}>
        {name}
      </button>
      {open && (
        <span class="sender-actions" role="group" aria-label={`About ${name}`}>
          <button type="button" disabled={busy} onClick={toggleBlock} ref={actionRef}>
            {blocked ? `Unblock ${name}` : `Block ${name}`}
          </button>
          {error && (
            <span class="form-error" role="alert">
              {error}
            </span>
          )}
        </span>
      )}
    </span>
  )
}
