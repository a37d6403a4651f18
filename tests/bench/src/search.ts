// npm run bench:search: GET /search/messages/ over a million messages in a
// thousand rooms of 20 (each user in about ten of them), through the messages
// service over HTTP on PostgreSQL. Queries of several kinds, from words in
// half of all messages to words in a handful, for random users; prints
// p50/p95/p99/max per kind and overall, per round and the spread over rounds.
// Figures, never a timed test; results in bench-results/search.json.
//
//   BENCH_DATABASE_SERVER  PostgreSQL server URL (postgres://postgres@127.0.0.1:5432/postgres); the
//                          database chat_bench_search is made there and kept (a rerun skips the load)
//   BENCH_MESSAGES (1000000)  BENCH_ROOMS (1000)  BENCH_USERS (2000)
//   BENCH_ROUNDS (3)  BENCH_QUERIES  per kind and round (100)  BENCH_CONCURRENCY  of the last pass of each round (4)
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { sql } from 'kysely'
import { createInProcessBus } from '@chat/bus'
import { createDatabase, createDb, databaseUrl, migrateToLatest } from '@chat/db'
import { buildApp } from '@chat/messages'
import { createRoomEventPublisher } from '@chat/room-events'
import { createTestAuth, silentLogger } from '@chat/service-kit/testing'
import { hasShape, load, wordOfRank, VOCABULARY, type DataShape } from './search-data.js'

const env = process.env
const shape: DataShape = {
  users: Number(env.BENCH_USERS ?? 2000),
  rooms: Number(env.BENCH_ROOMS ?? 1000),
  roomSize: 20,
  messages: Number(env.BENCH_MESSAGES ?? 1_000_000)
}
const rounds = Number(env.BENCH_ROUNDS ?? 3)
const queriesPerKind = Number(env.BENCH_QUERIES ?? 100)
const concurrency = Number(env.BENCH_CONCURRENCY ?? 4)
const server = env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const resultsDir = fileURLToPath(new URL('../bench-results', import.meta.url))

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!
const between = (low: number, high: number): number => low + Math.floor(Math.random() * (high - low))

interface Searcher {
  token: string
  rooms: string[]
}

/** What a kind of query searches for; `room` narrows it to one of the user's rooms. */
const KINDS: Record<string, (user: Searcher) => { q: string; room?: string }> = {
  // Rank 0 is in about half of all messages (the "the" of this language).
  'common word': () => ({ q: wordOfRank(between(0, 3)) }),
  // "ka": the first syllable of ranks 0..575, most words of most messages.
  'common prefix': () => ({ q: wordOfRank(0).slice(0, 2) }),
  'mid word': () => ({ q: wordOfRank(between(50, 300)) }),
  'rare word': () => ({ q: wordOfRank(between(VOCABULARY - 3000, VOCABULARY)) }),
  // "qu": ranks 10944 and up, rare words only, but a thousand of them.
  'rare prefix': () => ({ q: 'qu' }),
  'two words': () => ({ q: `${wordOfRank(0)} ${wordOfRank(between(5, 50)).slice(0, 4)}` }),
  'common word, one room': (user) => ({ q: wordOfRank(0), room: pick(user.rooms) })
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

interface Figures {
  n: number
  p50: number
  p95: number
  p99: number
  max: number
  hits: number
}

function figures(samples: Array<{ ms: number; hits: number }>): Figures {
  const sorted = samples.map((sample) => sample.ms).sort((a, b) => a - b)
  const hits = samples.reduce((sum, sample) => sum + sample.hits, 0) / Math.max(1, samples.length)
  return { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN, hits }
}

const ms = (value: number): string => value.toFixed(1).padStart(7)

async function main(): Promise<void> {
  await createDatabase(server, 'chat_bench_search', { ifMissing: true })
  const handle = await createDb(databaseUrl(server, 'chat_bench_search'), { poolSize: 10 })
  const db = handle.db
  await migrateToLatest(db)
  if (await hasShape(db, shape)) {
    process.stdout.write(`data: kept from an earlier run (${shape.messages} messages, ${shape.rooms} rooms, ${shape.users} users)\n`)
  } else {
    const startedAt = performance.now()
    process.stdout.write(`data: loading ${shape.messages} messages into ${shape.rooms} rooms of ${shape.roomSize}, ${shape.users} users...\n`)
    await load(db, shape)
    process.stdout.write(`data: loaded in ${((performance.now() - startedAt) / 1000).toFixed(0)} s\n`)
  }

  const bus = createInProcessBus()
  const { signer, verifier } = createTestAuth()
  const publisher = createRoomEventPublisher({ db, bus, logger: silentLogger })
  const app = await buildApp({ db, bus, verifier, publisher }, { logger: false, userRps: 0 })
  const address = await app.listen({ host: '127.0.0.1', port: 0 })

  const sampled = await sql<{ id: string; display_name: string; rooms: string[] }>`
    select u.id, u.display_name, array_agg(p.room_id::text) as rooms
    from users u join room_participants p on p.user_id = u.id
    group by u.id, u.display_name order by random() limit 200`.execute(db)
  const searchers: Searcher[] = sampled.rows.map((row) => ({ token: signer.sign({ id: row.id, displayName: row.display_name }).token, rooms: row.rooms }))
  const roomsPerUser = sampled.rows.reduce((sum, row) => sum + row.rooms.length, 0) / Math.max(1, sampled.rows.length)
  process.stdout.write(`searchers: ${searchers.length} random users, ${roomsPerUser.toFixed(1)} rooms each (~${Math.round((roomsPerUser * shape.messages) / shape.rooms)} messages they may search)\n`)

  let failures = 0
  const search = async (user: Searcher, kind: string): Promise<{ ms: number; hits: number }> => {
    const { q, room } = KINDS[kind]!(user)
    const query = new URLSearchParams({ q, limit: '20', ...(room ? { room_id: room } : {}) })
    const startedAt = performance.now()
    const response = await fetch(`${address}/search/messages/?${query.toString()}`, { headers: { authorization: `Bearer ${user.token}` } })
    const body: unknown = await response.json()
    const took = performance.now() - startedAt
    if (response.status !== 200 || !Array.isArray(body)) failures += 1
    return { ms: took, hits: Array.isArray(body) ? body.length : 0 }
  }

  // Warm the caches the way a running service has them.
  for (const kind of Object.keys(KINDS)) for (let index = 0; index < 10; index++) await search(pick(searchers), kind)

  const results: Array<{ round: number; byKind: Record<string, Figures>; overall: Figures; concurrent: Figures & { perSecond: number } }> = []
  for (let round = 1; round <= rounds; round++) {
    const byKind: Record<string, Figures> = {}
    const all: Array<{ ms: number; hits: number }> = []
    process.stdout.write(`\nround ${round}: one query at a time, ${queriesPerKind} of each kind (ms)\n`)
    process.stdout.write(`  ${'kind'.padEnd(24)}    p50     p95     p99     max  hits\n`)
    for (const kind of Object.keys(KINDS)) {
      const samples: Array<{ ms: number; hits: number }> = []
      for (let index = 0; index < queriesPerKind; index++) samples.push(await search(pick(searchers), kind))
      all.push(...samples)
      const f = (byKind[kind] = figures(samples))
      process.stdout.write(`  ${kind.padEnd(24)}${ms(f.p50)} ${ms(f.p95)} ${ms(f.p99)} ${ms(f.max)}  ${f.hits.toFixed(1)}\n`)
    }
    const overall = figures(all)
    process.stdout.write(`  ${'all kinds'.padEnd(24)}${ms(overall.p50)} ${ms(overall.p95)} ${ms(overall.p99)} ${ms(overall.max)}\n`)

    // The same mix from `concurrency` clients at once.
    const kinds = Object.keys(KINDS)
    const concurrentSamples: Array<{ ms: number; hits: number }> = []
    const startedAt = performance.now()
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let index = 0; index < (queriesPerKind * kinds.length) / concurrency; index++) concurrentSamples.push(await search(pick(searchers), pick(kinds)))
      })
    )
    const perSecond = concurrentSamples.length / ((performance.now() - startedAt) / 1000)
    const concurrent = { ...figures(concurrentSamples), perSecond }
    process.stdout.write(`  ${`${concurrency} clients, mixed`.padEnd(24)}${ms(concurrent.p50)} ${ms(concurrent.p95)} ${ms(concurrent.p99)} ${ms(concurrent.max)}  ${perSecond.toFixed(0)} searches/s\n`)
    results.push({ round, byKind, overall, concurrent })
  }

  const spread = (values: number[]): string => {
    const sorted = [...values].sort((a, b) => a - b)
    return `${percentile(sorted, 50).toFixed(1)} (${sorted[0]!.toFixed(1)}..${sorted.at(-1)!.toFixed(1)})`
  }
  process.stdout.write(`\nover ${rounds} rounds, median (min..max):\n`)
  process.stdout.write(`  one at a time, all kinds: p50 ${spread(results.map((r) => r.overall.p50))} ms, p99 ${spread(results.map((r) => r.overall.p99))} ms\n`)
  process.stdout.write(`  worst kind's p99 per round: ${spread(results.map((r) => Math.max(...Object.values(r.byKind).map((f) => f.p99))))} ms\n`)
  process.stdout.write(`  ${concurrency} clients: p99 ${spread(results.map((r) => r.concurrent.p99))} ms, ${spread(results.map((r) => r.concurrent.perSecond))} searches/s\n`)
  process.stdout.write(`  non-200 answers: ${failures}\n`)

  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(join(resultsDir, 'search.json'), `${JSON.stringify({ shape, roomsPerUser, rounds: results, failures }, null, 2)}\n`)
  await app.close()
  await publisher.close()
  await bus.close()
  await handle.destroy()
}

await main()
