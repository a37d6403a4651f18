import type { RoomsInvite, User } from '@chat/client'
import type { ActionContext } from './action-context.js'
import { addBlock, removeBlock } from './state/people.slice.js'

/** The caller's consent settings over HTTP: blocks and who may add them to rooms. */
export class PeopleActions {
  readonly #context: ActionContext

  constructor(context: ActionContext) {
    this.#context = context
  }

  /** Reads the blocks and the settings once per session; a failure is reported and read again on the next call. */
  async load(): Promise<void> {
    const { client, store } = this.#context
    try {
      const [me, blocks] = await Promise.all([client.users.me(), client.users.blocks.list()])
      if (this.#context.active()) store.set({ roomsInvite: me.rooms_invite, blocks, blocksLoaded: true })
    } catch (error) {
      this.#context.report(error)
    }
  }

  async block(user: Pick<User, 'id'>): Promise<void> {
    const block = await this.#context.client.users.blocks.block(user.id)
    this.#context.store.set((state) => addBlock(state, block))
  }

  async unblock(userId: string): Promise<void> {
    await this.#context.client.users.blocks.unblock(userId)
    this.#context.store.set((state) => removeBlock(state, userId))
  }

  async setRoomsInvite(roomsInvite: RoomsInvite): Promise<void> {
    const me = await this.#context.client.users.update({ rooms_invite: roomsInvite })
    this.#context.store.set({ roomsInvite: me.rooms_invite })
  }
}
