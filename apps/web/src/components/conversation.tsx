import { useLayoutEffect, useRef, useState } from 'preact/hooks'
import { useChat } from '../chat.js'
import { useStore } from '../store.js'
import { Composer } from './composer.js'
import { MessageItem, PendingItem } from './message-item.js'
import { ParticipantsLine } from './presence-dot.js'
import { RoomAvatar } from './room-avatar.js'
import { RoomDetails } from './room-details.js'
import { SeenBy } from './seen-by.js'
import { ThreadPanel } from './thread-panel.js'

/** Within this many pixels of the end, the view follows new messages. */
const stickThreshold = 48

export function Conversation({ roomId }: { roomId: string }) {
  const chat = useChat()
  const state = useStore(chat.store)
  const room = chat.room(roomId)
  const timeline = state.timelines[roomId]
  const [showDetails, setShowDetails] = useState(false)
  const [threadRootId, setThreadRootId] = useState<string | null>(null)
  const listRef = useRef<HTMLDivElement>(null)
  const atBottom = useRef(true)
  const previous = useRef<{ height: number; firstId: string | undefined }>({ height: 0, firstId: undefined })

  function reportRead() {
    const list = listRef.current
    if (!list || document.visibilityState !== 'visible') return
    const visibleEnd = list.scrollTop + list.clientHeight
    const lines = list.querySelectorAll<HTMLElement>('[data-seq]')
    for (let index = lines.length - 1; index >= 0; index--) {
      const line = lines[index]
      if (line && line.offsetTop < visibleEnd) {
        chat.markRead(roomId, Number(line.dataset.seq))
        return
      }
    }
  }

  useLayoutEffect(() => {
    const list = listRef.current
    if (!list) return
    const firstId = timeline?.messages[0]?.id
    const before = previous.current
    if (atBottom.current) {
      list.scrollTop = list.scrollHeight
    } else if (before.firstId !== undefined && firstId !== before.firstId) {
      // Older messages went in above: keep the lines the reader looks at in place.
      list.scrollTop += list.scrollHeight - before.height
    }
    previous.current = { height: list.scrollHeight, firstId }
    reportRead()
  })

  function onScroll() {
    const list = listRef.current
    if (!list) return
    atBottom.current = list.scrollHeight - list.scrollTop - list.clientHeight < stickThreshold
    if (list.scrollTop < 80 && timeline?.older) void chat.loadOlder(roomId)
    reportRead()
  }

  if (!room) return null
  const me = state.session?.user
  const typing = (state.typing[roomId] ?? []).map((entry) => entry.user.display_name)
  const lastMessage = timeline?.messages.at(-1)

  return (
    <section class="conversation" aria-labelledby="room-title">
      <header class="conversation-header">
        <button type="button" class="back-button" aria-label="Back to the room list" onClick={() => chat.selectRoom(null)}>
          ←
        </button>
        <RoomAvatar room={room} size={36} />
        <div class="conversation-title">
          <h2 id="room-title">{room.name}</h2>
          <ParticipantsLine participants={room.participants} meId={me?.id} />
        </div>
        <button type="button" aria-expanded={showDetails} aria-controls="room-details" onClick={() => setShowDetails(!showDetails)}>
          {showDetails ? 'Hide details' : 'Details'}
        </button>
      </header>
      {showDetails && <RoomDetails room={room} />}
      <div class="timeline" ref={listRef} onScroll={onScroll} role="log" aria-label={`Messages in ${room.name}`} tabIndex={0}>
        {timeline?.older && (
          <button type="button" class="load-older" disabled={timeline.loadingOlder} onClick={() => void chat.loadOlder(roomId)}>
            {timeline.loadingOlder ? 'Loading…' : 'Load older messages'}
          </button>
        )}
        {timeline?.status === 'loading' && <p class="muted">Loading messages…</p>}
        {timeline?.status === 'ready' && timeline.messages.length === 0 && timeline.pending.length === 0 && (
          <p class="muted">No messages yet. Say hello!</p>
        )}
        <ol class="messages">
          {timeline?.messages.map((message) => (
            <MessageItem
              key={message.id}
              roomId={roomId}
              message={message}
              mine={message.sender.id === me?.id}
              myReaction={state.myReactions[message.id] ?? null}
              emoji={state.emoji}
              onOpenThread={setThreadRootId}
            />
          ))}
          {timeline?.pending.map((line) => <PendingItem key={line.clientMsgId} roomId={roomId} line={line} />)}
        </ol>
        {lastMessage && <SeenBy room={room} seq={lastMessage.seq} meId={me?.id} />}
      </div>
      <p class="typing" aria-live="polite">
        {typing.length === 1 && `${typing[0]} is typing…`}
        {typing.length > 1 && `${typing.join(', ')} are typing…`}
      </p>
      <Composer roomId={roomId} />
      {threadRootId !== null && <ThreadPanel key={threadRootId} roomId={roomId} rootId={threadRootId} onClose={() => setThreadRootId(null)} />}
    </section>
  )
}
