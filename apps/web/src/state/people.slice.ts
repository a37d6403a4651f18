import type { Block, RoomsInvite } from '@chat/client'

/** The caller's consent settings: whom they blocked, and who may put them into group rooms. */
export interface PeopleState {
  /** Latest first, as the server lists them. */
  blocks: Block[]
  blocksLoaded: boolean
  /** Unknown until `GET /users/me` answered. */
  roomsInvite: RoomsInvite | null
}

export const emptyPeople: PeopleState = { blocks: [], blocksLoaded: false, roomsInvite: null }

export function isBlocked(state: PeopleState, userId: string): boolean {
  return state.blocks.some((block) => block.user.id === userId)
}

/** A block from the server: a new one first; a repeated one keeps its place (the server keeps its created_at). */
export function addBlock<S extends PeopleState>(state: S, block: Block): S {
  if (isBlocked(state, block.user.id)) return { ...state, blocks: state.blocks.map((other) => (other.user.id === block.user.id ? block : other)) }
  return { ...state, blocks: [block, ...state.blocks] }
}

export function removeBlock<S extends PeopleState>(state: S, userId: string): S {
  return { ...state, blocks: state.blocks.filter((block) => block.user.id !== userId) }
}

