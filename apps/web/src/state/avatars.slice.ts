import { ChatApiError, type AvatarFetchResult, type Room } from '@chat/client'

/** Room images need the bearer token, so an `<img src>` cannot fetch them: they are shown through object URLs. */
export interface AvatarsState {
  /** Object URLs of room avatars, by room id. */
  avatars: Record<string, string>
}

export const emptyAvatars: AvatarsState = { avatars: {} }

/** Shows `url` for the room, or its initials without one. */
export function withAvatar<S extends AvatarsState>(state: S, roomId: string, url: string | undefined): S {
  const { [roomId]: _old, ...avatars } = state.avatars
  return { ...state, avatars: url ? { ...avatars, [roomId]: url } : avatars }
}

export function removeAvatar<S extends AvatarsState>(state: S, roomId: string): S {
  return withAvatar(state, roomId, undefined)
}

/**
 * Fetches each room's image once per `avatar_url` and hands the object URL to
 * `show`. The caller revokes the URL it replaces; a URL that arrives after the
 * room's `avatar_url` changed again is revoked here and never shown.
 */
export class AvatarLoader {
  readonly #fetch: (roomId: string) => Promise<AvatarFetchResult>
  readonly #show: (roomId: string, url: string | undefined) => void
  /** The avatar_url each shown (or loading) image was made from; '' for none. */
  readonly #sources = new Map<string, string>()

  constructor(fetch: (roomId: string) => Promise<AvatarFetchResult>, show: (roomId: string, url: string | undefined) => void) {
    this.#fetch = fetch
    this.#show = show
  }

  async load(room: Room): Promise<void> {
    const source = room.avatar_url ?? ''
    if (this.#sources.get(room.id) === source) return
    this.#sources.set(room.id, source)
    let url: string | undefined
    if (source) {
      try {
        const result = await this.#fetch(room.id)
        if (result.notModified) return
        url = URL.createObjectURL(new Blob([result.bytes as Uint8Array<ArrayBuffer>], { type: result.contentType }))
      } catch (error) {
        // Forgotten, so that the next load of this room tries again.
        this.#sources.delete(room.id)
        if (!(error instanceof ChatApiError && error.code === 'avatar_not_set')) return
      }
    }
    if (this.#sources.get(room.id) !== source) {
      if (url) URL.revokeObjectURL(url)
      return
    }
    this.#show(room.id, url)
  }

  forget(roomId: string): void {
    this.#sources.delete(roomId)
  }

  clear(): void {
    this.#sources.clear()
  }
}
