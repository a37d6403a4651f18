import { render } from 'preact'
import { App } from './app.js'
import { Chat } from './chat.js'
import './styles.css'

const chat = new Chat({ baseUrl: window.location.origin, storage: window.localStorage })
chat.start()
const root = document.getElementById('app')
if (root) render(<App chat={chat} />, root)
