import { Type, type Static } from 'typebox'
import { Timestamp, Uuid, limits, storableTextPattern } from './common.js'

export const DisplayName = Type.String({ minLength: 1, maxLength: limits.displayNameChars, pattern: storableTextPattern })

export const User = Type.Object(
  { id: Uuid, display_name: Type.String(), created_at: Timestamp }
)
export type User = Static<typeof User>

/** The public `User` of a users row (or of any row with those three columns). */
export function toUser(row: { id: string; display_name: string; created_at: Date }): User {
  return { id: row.id, display_name: row.display_name, created_at: row.created_at.toISOString() }
}

/** Who may put the user into a group room: `anyone`, or `nobody` but themselves (a direct room is still open to anyone they have not blocked). */
export const RoomsInvite = Type.Union([Type.Literal('anyone'), Type.Literal('nobody')])
export type RoomsInvite = Static<typeof RoomsInvite>

/** `GET /users/me/`: the caller, with their own settings. */
export const Me = Type.Object({ ...User.properties, rooms_invite: RoomsInvite })
export type Me = Static<typeof Me>

/** `PATCH /users/me/`: the caller's settings. */
export const UpdateMeBody = Type.Object({ rooms_invite: Type.Optional(RoomsInvite) }, { additionalProperties: false, minProperties: 1 })
export type UpdateMeBody = Static<typeof UpdateMeBody>

/** A user the caller blocked (`GET /users/me/blocks/`, `PUT /users/me/blocks/:user_id/`). */
export const Block = Type.Object({ user: User, created_at: Timestamp })
export type Block = Static<typeof Block>

export const Session = Type.Object(
  {
    user: User,
    access_token: Type.String(),
    refresh_token: Type.String(),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer({ description: 'seconds until the access token expires (exp - iat)' })
  }
)
export type Session = Static<typeof Session>

export const Credentials = Type.Object(
  {
    display_name: DisplayName,
    password: Type.String({ minLength: limits.passwordMinChars, maxLength: limits.passwordMaxChars })
  },
  { additionalProperties: false }
)
export type Credentials = Static<typeof Credentials>

export const RefreshTokenBody = Type.Object(
  { refresh_token: Type.String({ minLength: 1, maxLength: limits.refreshTokenChars }) },
  { additionalProperties: false }
)
export type RefreshTokenBody = Static<typeof RefreshTokenBody>

const uuidPattern = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'

/** A user with their presence: `GET /users/?ids=`. */
export const UserPresence = Type.Object({
  ...User.properties,
  online: Type.Boolean({ description: 'a socket of theirs is open on some gateway' }),
  last_seen_at: Type.Union([Type.Null(), Timestamp], { description: 'now while online, else when their last socket closed; null when never seen since presence began' })
})
export type UserPresence = Static<typeof UserPresence>

/** `GET /users/`: a user by search, or with their presence by ids. */
export const UserListEntry = Type.Object({
  ...User.properties,
  online: Type.Optional(UserPresence.properties.online),
  last_seen_at: Type.Optional(UserPresence.properties.last_seen_at)
})
export type UserListEntry = Static<typeof UserListEntry>

export const UserSearchQuery = Type.Object(
  {
    search: Type.Optional(Type.String({ maxLength: limits.displayNameChars, pattern: storableTextPattern })),
    ids: Type.Optional(
      Type.String({
        pattern: `^${uuidPattern}(,${uuidPattern}){0,${limits.userIdsPerRequest - 1}}$`,
        description: `up to ${limits.userIdsPerRequest} user ids, comma-separated: those users (the caller and those who share a room with them) with their presence; not with search`
      })
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: limits.userSearchMax, default: limits.userSearchDefault }))
  },
  { additionalProperties: false }
)
export type UserSearchQuery = Static<typeof UserSearchQuery>

export const Jwk = Type.Object(
  {
    kty: Type.String(),
    kid: Type.String(),
    alg: Type.String(),
    use: Type.Literal('sig'),
    crv: Type.Optional(Type.String()),
    x: Type.Optional(Type.String()),
    y: Type.Optional(Type.String())
  },
  { additionalProperties: true }
)
export type Jwk = Static<typeof Jwk>

export const Jwks = Type.Object({ keys: Type.Array(Jwk) })
export type Jwks = Static<typeof Jwks>

/** Claims of an access token. */
export interface AccessTokenClaims {
  sub: string
  name: string
  iat: number
  exp: number
  jti: string
}
