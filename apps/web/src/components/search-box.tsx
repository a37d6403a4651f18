import type { SearchHit } from '@chat/client'
import { useState } from 'preact/hooks'
import { describeError, useChat } from '../chat.js'

/** The highlight's text with its marks as <mark> elements: offsets, so no markup is ever parsed out of the text. */
function Highlighted({ hit }: { hit: SearchHit }) {
  const { text, marks } = hit.highlight
  const parts = []
  let at = 0
  for (const mark of marks) {
    if (mark.start < at) continue
    parts.push(text.slice(at, mark.start), <mark key={mark.start}>{text.slice(mark.start, mark.end)}</mark>)
    at = mark.end
  }
  parts.push(text.slice(at))
  return <span class="hit-text">{parts}</span>
}

/** Searches the messages of the caller's rooms; a hit opens its room. */
export function SearchBox() {
  const chat = useChat()
  const [query, setQuery] = useState('')
  const [hits, setHits] = useState<SearchHit[] | null>(null)
  const [error, setError] = useState<string | null>(null)

  async function submit(event: Event) {
    event.preventDefault()
    if (query.trim() === '') return setHits(null)
    setError(null)
    try {
      setHits(await chat.searchMessages(query))
    } catch (failure) {
      setError(describeError(failure))
    }
  }

  return (
    <form class="search-box" role="search" onSubmit={(event) => void submit(event)}>
      <input type="search" aria-label="Search messages" placeholder="Search messages" maxLength={200} value={query} onInput={(event) => setQuery(event.currentTarget.value)} />
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {hits && (
        <ul class="search-hits" aria-label="Search results">
          {hits.length === 0 && <li class="muted">Nothing found</li>}
          {hits.map((hit) => (
            <li key={hit.message.id}>
              <button type="button" onClick={() => chat.selectRoom(hit.room.id)}>
                <span class="room-meta">
                  {hit.room.name} · {hit.message.sender.display_name}
                </span>
                <Highlighted hit={hit} />
              </button>
            </li>
          ))}
        </ul>
      )}
    </form>
  )
}
