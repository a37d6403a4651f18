// `node dist/migrate-cli.js [up|status]`: the migrate step that runs before
// services start. Reads DATABASE_URL, prints one line per migration, exits 0
// on success and 1 on any failure (with one line on stderr saying why).
import { createDb, isPostgresUrl } from './connection.js'
import { migrateToLatest, migrationStatus } from './migrate.js'

const USAGE = 'usage: migrate-cli [up|status]   (DATABASE_URL: postgres:// URL or PGlite data directory)'

function fail(message: string): never {
  process.stderr.write(`${message}\n`)
  process.exit(1)
}

/** Accepts what createDb accepts: a parseable postgres URL, or a PGlite directory (no other scheme). */
function validateDatabaseUrl(value: string | undefined): string {
  if (value === undefined || value.trim() === '') {
    fail('DATABASE_URL is required (a postgres:// URL or a PGlite data directory)')
  }
  if (isPostgresUrl(value)) {
    if (!URL.canParse(value)) fail('DATABASE_URL is not a valid postgres:// URL')
    return value
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !value.startsWith('memory://') && !value.startsWith('file://')) {
    fail('DATABASE_URL must be a postgres:// URL or a PGlite data directory')
  }
  return value
}

async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? 'up'
  if (argv.length > 1 || (command !== 'up' && command !== 'status')) fail(USAGE)
  const target = validateDatabaseUrl(process.env.DATABASE_URL)

  const { db, destroy } = await createDb(target, { poolSize: 1 })
  try {
    const ran = command === 'up' ? new Set(await migrateToLatest(db)) : new Set<string>()
    for (const { name, executedAt } of await migrationStatus(db)) {
      const state = ran.has(name) ? 'applied now' : executedAt === null ? 'pending' : `applied ${executedAt.toISOString()}`
      process.stdout.write(`${name} ${state}\n`)
    }
  } finally {
    await destroy()
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  fail(`migrate ${process.argv[2] ?? 'up'} failed: ${error instanceof Error ? error.message : String(error)}`)
})
