import type { User } from '@chat/client'
import { useEffect, useState } from 'preact/hooks'
import { useChat } from '../chat.js'

/** Picks users by display-name prefix (`GET /users/?search=`). */
export function ParticipantPicker({
  id,
  label,
  selected,
  exclude,
  onChange
}: {
  id: string
  label: string
  selected: string[]
  exclude: string[]
  onChange: (names: string[]) => void
}) {
  const chat = useChat()
  const [query, setQuery] = useState('')
  const [results, setResults] = useState<User[]>([])

  useEffect(() => {
    const prefix = query.trim()
    if (!prefix) {
      setResults([])
      return
    }
    let current = true
    const timer = setTimeout(() => {
      chat.client.users.search(prefix, { limit: 8 }).then(
        (users) => current && setResults(users),
        () => current && setResults([])
      )
    }, 150)
    return () => {
      current = false
      clearTimeout(timer)
    }
  }, [query, chat])

  const taken = new Set([...selected, ...exclude].map((name) => name.toLowerCase()))
  const offered = results.filter((user) => !taken.has(user.display_name.toLowerCase()))

  return (
    <div class="picker">
      <label for={id}>{label}</label>
      <input
        id={id}
        type="search"
        autoComplete="off"
        placeholder="Type the start of a name"
        value={query}
        onInput={(event) => setQuery(event.currentTarget.value)}
      />
      {query.trim() !== '' && (
        <ul class="picker-results" aria-label="Matching users">
          {offered.length === 0 && <li class="muted">No match</li>}
          {offered.map((user) => (
            <li key={user.id}>
              <button
                type="button"
                aria-label={`Add ${user.display_name}`}
                onClick={() => {
                  onChange([...selected, user.display_name])
                  setQuery('')
                }}
              >
                + {user.display_name}
              </button>
            </li>
          ))}
        </ul>
      )}
      {selected.length > 0 && (
        <ul class="chips" aria-label="Chosen users">
          {selected.map((name) => (
            <li key={name} class="chip">
              <span>{name}</span>
              <button type="button" aria-label={`Remove ${name}`} onClick={() => onChange(selected.filter((other) => other !== name))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}
