// Creating and dropping whole databases: tests, benchmarks and the services
// launcher each make databases of their own on one PostgreSQL server.
import pg from 'pg'

/** The URL of database `name` on the server that `serverUrl` points at. */
export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl)
  url.pathname = `/${encodeURIComponent(name)}`
  return url.toString()
}

/** The database a URL names. */
export function databaseNameOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''))
}

/** A PostgreSQL identifier, quoted. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

async function withClient<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl })
  // A server that goes away would otherwise crash the process with an unhandled 'error'.
  client.on('error', () => {})
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

/**
 * Creates database `name` on the server of `serverUrl` (connected to as
 * given). With `ifMissing`, an existing database is left alone. Resolves
 * to whether it was created.
 */
export async function createDatabase(serverUrl: string, name: string, options: { ifMissing?: boolean } = {}): Promise<boolean> {
  return withClient(serverUrl, async (client) => {
    if (options.ifMissing) {
      const found = await client.query('select 1 from pg_database where datname = $1', [name])
      if ((found.rowCount ?? 0) > 0) return false
    }
    await client.query(`create database ${quoteIdent(name)}`)
    return true
  })
}

/** Drops database `name` if it exists, ending its connections. */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await withClient(serverUrl, (client) => client.query(`drop database if exists ${quoteIdent(name)} with (force)`))
}
