import { useState } from 'preact/hooks'
import { chatContext, type Chat } from './chat.js'
import { useStore } from './store.js'
import { AuthView } from './components/auth-view.js'
import { ConnectionBanner } from './components/connection-banner.js'
import { Conversation } from './components/conversation.js'
import { NoticeBar } from './components/notice-bar.js'
import { PeopleSettings } from './components/people-settings.js'
import { RoomList } from './components/room-list.js'

export function App({ chat }: { chat: Chat }) {
  const state = useStore(chat.store)
  return (
    <chatContext.Provider value={chat}>
      {state.session ? <Shell /> : <AuthView />}
    </chatContext.Provider>
  )
}

function Shell() {
  const chat = chatContext.use()
  const state = useStore(chat.store)
  const me = state.session?.user
  const [settings, setSettings] = useState(false)
  return (
    <div class="shell" data-view={state.selectedRoomId ? 'conversation' : 'list'}>
      <header class="topbar">
        <h1 class="brand">Chat</h1>
        <ConnectionBanner />
        <span class="me" title="Signed in as">{me?.display_name}</span>
        <button type="button" class="link-button" aria-expanded={settings} aria-controls="people-settings" onClick={() => setSettings(!settings)}>
          Settings
        </button>
        <button type="button" class="link-button" onClick={() => void chat.logout()}>
          Log out
        </button>
      </header>
      <NoticeBar />
      {settings && <PeopleSettings />}
      <div class="panes">
        <nav class="room-pane" aria-label="Rooms">
          <RoomList />
        </nav>
        <main class="conversation-pane">
          {state.selectedRoomId ? (
            <Conversation key={state.selectedRoomId} roomId={state.selectedRoomId} />
          ) : (
            <p class="empty-hint">Pick a room, or create one.</p>
          )}
        </main>
      </div>
    </div>
  )
}
