// The messages service as the benchmark runs it: its own process, so the load
// generator does not share its event loop. Started by bench/send.ts.
import { createInProcessBus } from '@chat/bus'
import { createDb } from '@chat/db'
import { createRoomEventPublisher } from '@chat/room-events'
import { createTokenVerifier, staticKeyResolver, verifyingKeyFromPem } from '@chat/service-kit'
import { buildApp } from '../src/app.js'

const databaseUrl = process.env.BENCH_DATABASE_URL
const publicKey = process.env.BENCH_PUBLIC_KEY
const poolSize = Number(process.env.BENCH_POOL_SIZE ?? 50)
if (!databaseUrl || !publicKey) {
  console.error('bench/server.ts is started by bench/send.ts (BENCH_DATABASE_URL and BENCH_PUBLIC_KEY)')
  process.exit(1)
}
const database = await createDb(databaseUrl, { poolSize })
const bus = createInProcessBus()
// BENCH_MARK_FLUSH_MS: how often the publisher writes its published_at marks (default as in production).
const flushMs = process.env.BENCH_MARK_FLUSH_MS ? Number(process.env.BENCH_MARK_FLUSH_MS) : undefined
const publisher = createRoomEventPublisher({ db: database.db, bus, logger: { warn: () => {}, error: () => {} }, flushMs })
const app = await buildApp(
  { db: database.db, bus, verifier: createTokenVerifier(staticKeyResolver([verifyingKeyFromPem(publicKey)])), publisher },
  { logger: false, userRps: 0 }
)
const address = await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`listening ${address}\n`)
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => publisher.close())
    .then(() => bus.close())
    .then(() => database.destroy())
    .then(() => process.exit(0))
})
