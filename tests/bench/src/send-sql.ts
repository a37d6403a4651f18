// The send function alone: PostgreSQL's CPU per call of chat_send_messages
// (read from the backend's /proc/<pid>/stat) by batch size, one client in a
// loop on a fresh database of 100 rooms of 10, beside other versions of the
// function in the same run. What a batch costs the database whatever the
// services around it do, to weigh a change to the function (its fixed cost
// per call against its cost per send) on this noisy machine.
//
//   npm run bench:send-sql   (builds first; needs a PostgreSQL on this machine)
//
//   BENCH_SQL_SIZES     batch sizes ("1,4,16")     BENCH_SQL_CALLS  calls per measurement (1000)
//   BENCH_SQL_ROUNDS    measurements per size and function (3)
//   BENCH_SQL_SETUP     SQL run once after the migrations, statements separated by ";;"
//                       (to create the other versions)
//   BENCH_SQL_VARIANTS  functions of the same signature to measure beside chat_send_messages
//   DATABASE_URL        the server (postgres://postgres@127.0.0.1:5432/postgres)
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { createDatabase, createDb, databaseUrl, dropDatabase, migrateToLatest } from '@chat/db'
import { cpuSecondsOf, processName } from '@chat/process-kit'

const env = process.env
const server = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const sizes = (env.BENCH_SQL_SIZES ?? '1,4,16').split(',').map(Number)
const calls = Number(env.BENCH_SQL_CALLS ?? 1000)
const rounds = Number(env.BENCH_SQL_ROUNDS ?? 3)
const functions = ['chat_send_messages', ...(env.BENCH_SQL_VARIANTS ?? '').split(',').filter(Boolean)]
for (const fn of functions) if (!/^[a-z_][a-z0-9_]*$/.test(fn)) throw new Error(`not a function name: ${fn}`)

const databaseName = `chat_bench_sql_${Date.now()}`
const url = databaseUrl(server, databaseName)
const client = new pg.Client({ connectionString: url })
await createDatabase(server, databaseName)
try {
  const handle = await createDb(url, { poolSize: 1 })
  await migrateToLatest(handle.db)
  await handle.destroy()
  await client.connect()
  const users = (await client.query<{ id: string }>("insert into users (display_name, display_name_key, password_hash) select 'u' || g, 'u' || g, 'x' from generate_series(1, 1000) g returning id")).rows.map((row) => row.id)
  const rooms: string[] = []
  for (let room = 0; room < 100; room++) {
    const members = users.slice(room * 10, room * 10 + 10)
    const id = (await client.query<{ id: string }>('insert into rooms (name, created_by) values ($1, $2) returning id', [`room ${room}`, members[0]])).rows[0]!.id
    await client.query("insert into room_participants (room_id, user_id, role) select $1, unnest($2::uuid[]), 'member'", [id, members])
    rooms.push(id)
  }
  for (const statement of (env.BENCH_SQL_SETUP ?? '').split(';;').filter((text) => text.trim() !== '')) await client.query(statement)
  const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid
  // The backend's pid is only this machine's process when the server runs here (not in a container, not elsewhere).
  if (processName(pid) !== 'postgres') throw new Error(`the server's backend (pid ${pid}) is not a postgres process of this machine: its CPU cannot be read here`)
  let next = 0
  // Plain sends, each into the next room (a batch spans several rooms, as under load).
  const batch = (size: number): string =>
    JSON.stringify(Array.from({ length: size }, (_, ord) => {
      const room = next++ % rooms.length
      return { ord, id: randomUUID(), room_id: rooms[room], sender_id: users[room * 10 + (ord % 10)], text: 'hello there', client_msg_id: randomUUID(), created_at: new Date().toISOString(), check_only: false, reply_to: null, mention_tokens: [], mention_ids: [] }
    }))
  const call = (fn: string, size: number): Promise<unknown> => client.query(`select * from ${fn}($1::jsonb)`, [batch(size)])
  console.log(`# PostgreSQL backend CPU per call of each function, one client, ${calls} calls per measurement after 50 unmeasured, the functions in turn (the order rotates each round); database ${databaseName}`)
  for (const size of sizes) {
    const figures = new Map<string, number[]>(functions.map((fn) => [fn, []]))
    for (let round = 0; round < rounds; round++) {
      // The tables grow as the run goes: each function goes first in turn.
      for (const fn of [...functions.slice(round % functions.length), ...functions.slice(0, round % functions.length)]) {
        for (let index = 0; index < 50; index++) await call(fn, size)
        const before = cpuSecondsOf(pid)
        for (let index = 0; index < calls; index++) await call(fn, size)
        figures.get(fn)!.push(((cpuSecondsOf(pid) - before) / calls) * 1e6)
      }
    }
    for (const [fn, micros] of figures) {
      micros.sort((a, b) => a - b)
      const median = micros[Math.floor(micros.length / 2)]!
      console.log(`batch of ${String(size).padStart(3)}  ${fn.padEnd(30)} ${median.toFixed(0)} µs per call (${micros[0]!.toFixed(0)}..${micros.at(-1)!.toFixed(0)}), ${(median / size).toFixed(0)} µs per send`)
    }
  }
} finally {
  await client.end().catch(() => undefined)
  await dropDatabase(server, databaseName)
}
