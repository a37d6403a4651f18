export type {
  Database,
  MessageRow,
  MessagesTable,
  NewUser,
  RateLimitsTable,
  ReactionsTable,
  RefreshTokenRow,
  RefreshTokensTable,
  RoomAvatarsTable,
  RoomEventRow,
  RoomEventsTable,
  RoomParticipantsTable,
  RoomRow,
  RoomsTable,
  RoomUpdate,
  UserRow,
  UsersTable
} from './schema.js'
export { createDb, isPostgresUrl } from './connection.js'
export type { CreateDbOptions, DbHandle, DbKind, DbLogger, PoolStats } from './connection.js'
export { migrateToLatest, migrationStatus } from './migrate.js'
export type { MigrationState } from './migrate.js'
export { migrations } from './migrations/index.js'
export { createDatabase, databaseNameOf, databaseUrl, dropDatabase, quoteIdent } from './admin.js'
