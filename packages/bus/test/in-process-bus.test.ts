import { randomBytes } from 'node:crypto'
import t from 'tap'
import { BusClosedError, createInProcessBus, DEFAULT_DUPLICATE_WINDOW_MS } from '../src/index.js'
import { runBusContract } from './bus-contract.js'

const prefix = `test.${randomBytes(4).toString('hex')}.`

t.test('in-process bus contract', async (t) => {
  runBusContract(t, {
    prefix,
    makeBus: async (options) => createInProcessBus({ streamSubjects: [`${prefix}s.>`], onError: options?.onError })
  })
})

t.test('never calls handlers inside publish()', async (t) => {
  const bus = createInProcessBus()
  t.teardown(() => bus.close())
  let calls = 0
  await bus.subscribe('a.b', () => { calls++ })
  const published = bus.publish('a.b', new Uint8Array([1]))
  t.equal(calls, 0, 'not called synchronously')
  await published
  await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(calls, 1, 'called soon after')
})

t.test('defaults to the CHAT_EVENTS subjects', async (t) => {
  const bus = createInProcessBus()
  t.teardown(() => bus.close())
  const data = new Uint8Array([1])
  t.same(await bus.publish('chat.room.r1.message.created', data, { msgId: 'r1:1' }), { stored: true, duplicate: false })
  t.same(await bus.publish('chat.room.r1.message.created', data, { msgId: 'r1:1' }), { stored: true, duplicate: true })
  t.same(await bus.publish('chat.room.r1.typing', data), { stored: false, duplicate: false })
})

t.test('the dedupe window expires like the stream duplicate_window', async (t) => {
  let now = 1_000_000
  const bus = createInProcessBus({ streamSubjects: ['s.>'], now: () => now })
  t.teardown(() => bus.close())
  const data = new Uint8Array([1])
  t.equal((await bus.publish('s.x', data, { msgId: 'm' })).duplicate, false)
  now += DEFAULT_DUPLICATE_WINDOW_MS - 1
  t.equal((await bus.publish('s.x', data, { msgId: 'm' })).duplicate, true, 'still inside the window')
  now += 1
  t.equal((await bus.publish('s.x', data, { msgId: 'm' })).duplicate, false, 'window counts from the first publish')
  t.equal((await bus.publish('s.x', data, { msgId: 'm' })).duplicate, true, 'remembered again')
})

t.test('each subscriber gets its own copy of the bytes', async (t) => {
  const bus = createInProcessBus()
  t.teardown(() => bus.close())
  const seen: number[] = []
  let resolveBoth: () => void = () => undefined
  const both = new Promise<void>((resolve) => { resolveBoth = resolve })
  await bus.subscribe('copy', (m) => { const d = m.data; d[0] = 9 })
  await bus.subscribe('copy', (m) => { seen.push(m.data[0] ?? -1); resolveBoth() })
  const data = new Uint8Array([1])
  await bus.publish('copy', data)
  data[0] = 2
  await both
  t.same(seen, [1], 'neither the publisher nor another subscriber can change it')
})

t.test('close fails requests in flight', async (t) => {
  const bus = createInProcessBus()
  await bus.subscribe('slow', () => undefined)
  const pending = bus.request('slow', new Uint8Array(), { timeoutMs: 10_000 })
  await bus.close()
  await t.rejects(pending, BusClosedError)
})

t.test('uses console.error when no onError is given', async (t) => {
  const logged: unknown[][] = []
  const original = console.error
  console.error = (...args: unknown[]) => { logged.push(args) }
  t.teardown(() => { console.error = original })
  const bus = createInProcessBus()
  await bus.subscribe('boom', () => { throw new Error('boom') })
  await bus.publish('boom', new Uint8Array())
  await bus.drain()
  t.equal(logged.length, 1)
  t.match(String(logged[0]?.[0]), /subscribe boom/)
})
