import { useState } from 'preact/hooks'
import { describeError, useChat } from '../chat.js'

export function AuthView() {
  const chat = useChat()
  const [mode, setMode] = useState<'login' | 'register'>('login')
  const [displayName, setDisplayName] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const registering = mode === 'register'

  async function submit(event: Event) {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      if (registering) await chat.register(displayName.trim(), password)
      else await chat.login(displayName.trim(), password)
    } catch (failure) {
      setError(describeError(failure))
      setBusy(false)
    }
  }

  return (
    <main class="auth">
      <form class="auth-card" onSubmit={(event) => void submit(event)} aria-labelledby="auth-title">
        <h1 id="auth-title">{registering ? 'Create an account' : 'Sign in to Chat'}</h1>
        <label for="auth-name">Display name</label>
        <input
          id="auth-name"
          name="display_name"
          autoComplete="username"
          required
          maxLength={64}
          value={displayName}
          onInput={(event) => setDisplayName(event.currentTarget.value)}
        />
        <label for="auth-password">Password</label>
        <input
          id="auth-password"
          name="password"
          type="password"
          autoComplete={registering ? 'new-password' : 'current-password'}
          required
          minLength={8}
          maxLength={256}
          value={password}
          onInput={(event) => setPassword(event.currentTarget.value)}
        />
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {registering ? 'Register' : 'Log in'}
        </button>
        <button type="button" class="link-button" onClick={() => setMode(registering ? 'login' : 'register')}>
          {registering ? 'I already have an account' : 'Create an account'}
        </button>
      </form>
    </main>
  )
}
