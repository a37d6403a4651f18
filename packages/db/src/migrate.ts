import { inspect } from 'node:util'
import { Migrator } from 'kysely'
import type { Kysely } from 'kysely'
import { migrations } from './migrations/index.js'

/** One migration as {@link migrationStatus} reports it. */
export interface MigrationState {
  name: string
  /** When it ran, or null while it is pending. */
  executedAt: Date | null
}

// Kysely<any>: migrations run on any Kysely instance, whatever its Database
// type (Kysely<unknown> would reject Kysely<Database>, its type is invariant).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyKysely = Kysely<any>

function createMigrator(db: AnyKysely): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations }
  })
}

/**
 * Runs every pending migration in name order, all in one transaction (a
 * failure leaves the database as it was), under Kysely's migration lock:
 * concurrent callers wait, then find nothing to do.
 * Resolves with the names it ran; rejects with the failing migration's name.
 *
 * @example
 * const ran = await migrateToLatest(db) // ['0001_initial'] the first time, [] after
 */
export async function migrateToLatest(db: AnyKysely): Promise<string[]> {
  const { error, results = [] } = await createMigrator(db).migrateToLatest()
  if (error !== undefined) {
    const failed = results.find((result) => result.status === 'Error')
    const reason = error instanceof Error ? error.message : inspect(error)
    const where = failed === undefined ? 'migrating to latest failed' : `migration ${failed.migrationName} failed`
    throw new Error(`${where}: ${reason}`, { cause: error })
  }
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName)
}

/** Every known migration in run order, with when it was executed (null if pending). */
export async function migrationStatus(db: AnyKysely): Promise<MigrationState[]> {
  const infos = await createMigrator(db).getMigrations()
  return infos.map((info) => ({ name: info.name, executedAt: info.executedAt ?? null }))
}
