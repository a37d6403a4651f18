import type { Participant, ParticipantRole, Room } from '@chat/client'

/**
 * What the caller may do to a room and its people, mirroring the server's
 * rules (docs/api.md, Roles), so that the views offer only what would be
 * allowed. The server still decides: a refusal is shown as any error.
 */

export function roleOf(room: Room, userId: string | undefined): ParticipantRole | undefined {
  return room.participants.find((participant) => participant.id === userId)?.role
}

function moderates(role: ParticipantRole | undefined): boolean {
  return role === 'owner' || role === 'admin'
}

/** Rename, set or remove the image: the owner and admins of a group room. */
export function canManageRoom(room: Room, meId: string | undefined): boolean {
  return room.kind === 'group' && moderates(roleOf(room, meId))
}

/** Add people: anyone in a group room, or only the owner and admins when members may not. */
export function canAddPeople(room: Room, meId: string | undefined): boolean {
  if (room.kind !== 'group') return false
  return room.members_can_add || moderates(roleOf(room, meId))
}

/** Role changes and `members_can_add` are the owner's alone. */
export function isOwner(room: Room, meId: string | undefined): boolean {
  return room.kind === 'group' && roleOf(room, meId) === 'owner'
}

/** The owner makes anyone but themselves admin or member. */
export function canSetRole(room: Room, meId: string | undefined, target: Participant): boolean {
  return isOwner(room, meId) && target.id !== meId && target.role !== 'owner'
}

/** The owner removes anyone, an admin members only; removing oneself is leaving, offered apart. */
export function canRemove(room: Room, meId: string | undefined, target: Participant): boolean {
  if (room.kind !== 'group' || target.id === meId) return false
  const mine = roleOf(room, meId)
  return mine === 'owner' || (mine === 'admin' && target.role === 'member')
}
