import type { Test } from 'tap'
import {
  BusClosedError,
  InvalidSubjectError,
  MSG_ID_HEADER,
  NoRespondersError,
  RequestTimeoutError,
  type BusMessage,
  type EventBus,
  type HandlerErrorContext,
  type HandlerErrorListener
} from '../src/index.js'

export interface ContractBusOptions {
  onError?: HandlerErrorListener
}

export interface BusContractSetup {
  /**
   * Unique per run and ending with a dot. The adapter must treat
   * `${prefix}s.>` as its stream subjects and nothing else under the prefix.
   */
  prefix: string
  makeBus(options?: ContractBusOptions): Promise<EventBus>
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const bytes = (text: string): Uint8Array => encoder.encode(text)
const text = (message: BusMessage): string => decoder.decode(message.data)
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Generous: only there so a broken adapter fails instead of hanging. */
const WAIT_MS = 10_000

interface Collector {
  readonly messages: BusMessage[]
  readonly handler: (message: BusMessage) => void
  waitFor(count: number): Promise<void>
}

function collector(): Collector {
  const messages: BusMessage[] = []
  const waiters: Array<{ count: number; resolve: () => void }> = []
  return {
    messages,
    handler: (message) => {
      messages.push(message)
      for (const waiter of waiters.filter((w) => messages.length >= w.count)) waiter.resolve()
    },
    waitFor: (count) => {
      if (messages.length >= count) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`expected ${count} messages, got ${messages.length} after ${WAIT_MS} ms`)),
          WAIT_MS
        )
        waiters.push({ count, resolve: () => { clearTimeout(timer); resolve() } })
      })
    }
  }
}

/**
 * Lets stray deliveries arrive before a "nothing else came" assertion. The
 * round trip makes the server process everything sent before it.
 */
async function settle(bus: EventBus): Promise<void> {
  await bus.ping()
  await sleep(50)
}

/** The behaviour every EventBus adapter must share. */
export function runBusContract(t: Test, setup: BusContractSetup): void {
  const { prefix } = setup
  const stream = `${prefix}s.`
  let counter = 0
  /** A fresh subject root per subtest so subtests never see each other's messages. */
  const root = (name: string): string => `${prefix}${name}${++counter}`

  const open = async (t: Test, options?: ContractBusOptions): Promise<EventBus> => {
    const bus = await setup.makeBus(options)
    t.teardown(() => bus.close())
    return bus
  }

  t.test('delivers to an exact subject and not to others', async (t) => {
    const bus = await open(t)
    const base = root('exact')
    const exact = collector()
    const all = collector()
    await bus.subscribe(`${base}.a`, exact.handler)
    await bus.subscribe(`${base}.>`, all.handler)
    await bus.publish(`${base}.b`, bytes('other'))
    await bus.publish(`${base}.a`, bytes('hello'))
    await all.waitFor(2)
    await settle(bus)
    t.equal(exact.messages.length, 1)
    t.equal(exact.messages[0]?.subject, `${base}.a`)
    t.equal(exact.messages[0] && text(exact.messages[0]), 'hello')
    t.ok(exact.messages[0]?.data instanceof Uint8Array, 'data is bytes')
  })

  t.test('wildcards: * is one token, > is one or more trailing tokens', async (t) => {
    const bus = await open(t)
    const base = root('wild')
    const star = collector()
    const tail = collector()
    const all = collector()
    await bus.subscribe(`${base}.room.*`, star.handler)
    await bus.subscribe(`${base}.room.>`, tail.handler)
    await bus.subscribe(`${base}.>`, all.handler)
    const subjects = [`${base}.room.a`, `${base}.room.a.b`, `${base}.room`, `${base}.other.a`]
    for (const subject of subjects) await bus.publish(subject, bytes(subject))
    await all.waitFor(subjects.length)
    await settle(bus)
    t.same(star.messages.map((m) => m.subject), [`${base}.room.a`], 'room.* does not match room.a.b nor room')
    t.same(tail.messages.map((m) => m.subject), [`${base}.room.a`, `${base}.room.a.b`], 'room.> does not match room itself')
    t.same(all.messages.map((m) => m.subject), subjects)
  })

  t.test('keeps publish order per subscriber, one message at a time', async (t) => {
    const bus = await open(t)
    const subject = root('order')
    const seen: number[] = []
    let running = 0
    let maxRunning = 0
    const done = collector()
    await bus.subscribe(subject, async (message) => {
      running++
      maxRunning = Math.max(maxRunning, running)
      const n = Number(text(message))
      // Uneven handler times would reorder a bus that runs handlers concurrently.
      if (n % 7 === 0) await sleep(1)
      else await Promise.resolve()
      seen.push(n)
      running--
      done.handler(message)
    })
    const fast = collector()
    await bus.subscribe(subject, fast.handler)
    const count = 200
    await Promise.all(Array.from({ length: count }, (_, i) => bus.publish(subject, bytes(String(i)))))
    await done.waitFor(count)
    await fast.waitFor(count)
    const expected = Array.from({ length: count }, (_, i) => i)
    t.same(seen, expected, 'slow subscriber sees publish order')
    t.same(fast.messages.map((m) => Number(text(m))), expected, 'fast subscriber sees publish order')
    t.equal(maxRunning, 1, 'never two handler calls at once on one subscription')
  })

  t.test('keeps order on stream subjects too', async (t) => {
    const bus = await open(t)
    const subject = root('sorder').replace(prefix, stream)
    const got = collector()
    await bus.subscribe(subject, got.handler)
    const results = []
    for (let i = 0; i < 50; i++) results.push(await bus.publish(subject, bytes(String(i))))
    t.ok(results.every((r) => r.stored && !r.duplicate), 'all stored, none duplicate')
    await got.waitFor(50)
    t.same(got.messages.map((m) => Number(text(m))), Array.from({ length: 50 }, (_, i) => i))
  })

  t.test('queue group: each message to exactly one member; plain subscribers get all', async (t) => {
    const bus = await open(t)
    const subject = root('queue')
    const a = collector()
    const b = collector()
    const plain = collector()
    await bus.subscribe(subject, a.handler, { queue: 'workers' })
    await bus.subscribe(subject, b.handler, { queue: 'workers' })
    await bus.subscribe(subject, plain.handler)
    const count = 100
    for (let i = 0; i < count; i++) await bus.publish(subject, bytes(String(i)))
    await plain.waitFor(count)
    // Resolves once a and b together have all messages.
    const groupDone = new Promise<void>((resolve, reject) => {
      const started = Date.now()
      const check = (): void => {
        if (a.messages.length + b.messages.length >= count) resolve()
        else if (Date.now() - started > WAIT_MS) reject(new Error('queue group did not get every message'))
        else setTimeout(check, 10)
      }
      check()
    })
    await groupDone
    await settle(bus)
    const ids = [...a.messages, ...b.messages].map((m) => Number(text(m)))
    t.equal(ids.length, count, 'no message twice across the group')
    t.equal(new Set(ids).size, count, 'every message once')
    t.ok(a.messages.length > 0 && b.messages.length > 0, `both members got work (${a.messages.length}/${b.messages.length})`)
    t.equal(plain.messages.length, count, 'plain subscriber got every message')
  })

  t.test('headers round trip on core and stream subjects', async (t) => {
    const bus = await open(t)
    const core = root('hdr')
    const stored = root('hdr').replace(prefix, stream)
    const got = collector()
    await bus.subscribe(core, got.handler)
    await bus.subscribe(stored, got.handler)
    const headers = { 'X-Request-Id': 'req-1', 'Chat-Seq': '42' }
    await bus.publish(core, bytes('a'), { headers })
    await bus.publish(stored, bytes('b'), { headers, msgId: `${stored}:1` })
    await got.waitFor(2)
    for (const message of got.messages) {
      t.equal(message.header('X-Request-Id'), 'req-1', `${message.subject} request id`)
      t.equal(message.header('Chat-Seq'), '42', `${message.subject} seq`)
      t.equal(message.header('x-request-id'), undefined, 'names are case-sensitive')
      t.equal(message.header('Absent'), undefined, 'missing header is undefined')
    }
    t.equal(got.messages[0]?.header(MSG_ID_HEADER), undefined, 'no msg id header on a core publish')
    t.equal(got.messages[1]?.header(MSG_ID_HEADER), `${stored}:1`, 'msg id travels as Nats-Msg-Id')
  })

  t.test('msgId dedupe: repeats are reported as duplicates but still delivered', async (t) => {
    const bus = await open(t)
    const subject = root('dedupe').replace(prefix, stream)
    const core = root('dedupecore')
    const got = collector()
    const coreGot = collector()
    await bus.subscribe(subject, got.handler)
    await bus.subscribe(core, coreGot.handler)
    const msgId = `${subject}:1`
    t.same(await bus.publish(subject, bytes('first'), { msgId }), { stored: true, duplicate: false })
    t.same(await bus.publish(subject, bytes('again'), { msgId }), { stored: true, duplicate: true })
    t.same(await bus.publish(subject, bytes('other'), { msgId: `${subject}:2` }), { stored: true, duplicate: false })
    t.same(await bus.publish(subject, bytes('no id')), { stored: true, duplicate: false })
    t.same(await bus.publish(subject, bytes('no id')), { stored: true, duplicate: false }, 'no msgId, no dedupe')
    t.same(await bus.publish(core, bytes('core'), { msgId: 'x' }), { stored: false, duplicate: false })
    t.same(await bus.publish(core, bytes('core'), { msgId: 'x' }), { stored: false, duplicate: false }, 'core subjects never dedupe')
    await got.waitFor(5)
    await coreGot.waitFor(2)
    t.same(got.messages.map(text), ['first', 'again', 'other', 'no id', 'no id'], 'core fan-out delivers the duplicate too')
  })

  t.test("confirm: 'none' publishes in order without an answer, and flush confirms them", async (t) => {
    const bus = await open(t)
    const subject = root('noack').replace(prefix, stream)
    const got = collector()
    await bus.subscribe(subject, got.handler)
    const results = []
    for (let index = 1; index <= 20; index++) results.push(await bus.publish(subject, bytes(String(index)), { msgId: `${subject}:${index}`, confirm: 'none' }))
    t.ok(results.every((result) => !result.stored && !result.duplicate), 'unacknowledged: nothing is known')
    await bus.flush()
    await got.waitFor(20)
    t.same(got.messages.map(text), Array.from({ length: 20 }, (_, index) => String(index + 1)), 'in publish order')
    t.equal(got.messages[0]?.header(MSG_ID_HEADER), `${subject}:1`, 'the msg id travels as Nats-Msg-Id')
    await bus.close()
    await t.rejects(bus.publish(subject, bytes('late'), { confirm: 'none' }), BusClosedError, 'a closed bus refuses')
    await t.rejects(bus.flush(), BusClosedError, 'and cannot confirm')
  })

  t.test('request/reply with a queue group: one server answers each request', async (t) => {
    const bus = await open(t)
    const subject = root('svc')
    const calls = { one: 0, two: 0 }
    await bus.serve(subject, (m) => { calls.one++; return bytes(`one:${text(m)}:${m.header('X-Trace') ?? ''}`) }, { queue: 'svc' })
    await bus.serve(subject, (m) => { calls.two++; return bytes(`two:${text(m)}:${m.header('X-Trace') ?? ''}`) }, { queue: 'svc' })
    const count = 20
    for (let i = 0; i < count; i++) {
      const reply = await bus.request(subject, bytes(String(i)), { timeoutMs: WAIT_MS, headers: { 'X-Trace': `t${i}` } })
      t.match(text(reply), new RegExp(`^(one|two):${i}:t${i}$`))
    }
    await settle(bus)
    t.equal(calls.one + calls.two, count, 'each request handled once')
    t.ok(calls.one > 0 && calls.two > 0, `both servers answered (${calls.one}/${calls.two})`)
  })

  t.test('request with nobody listening fails with NoRespondersError', async (t) => {
    const bus = await open(t)
    const subject = root('nobody')
    const error = await bus.request(subject, bytes('?'), { timeoutMs: WAIT_MS }).then(() => undefined, (e: unknown) => e)
    t.type(error, NoRespondersError)
    t.equal((error as NoRespondersError).code, 'bus_no_responders')
    t.equal((error as NoRespondersError).subject, subject)
  })

  t.test('request nobody answers fails with RequestTimeoutError', async (t) => {
    const bus = await open(t)
    const subject = root('silent')
    const listener = collector()
    // Interest without an answer: not "no responders", so the request times out.
    await bus.subscribe(subject, listener.handler)
    await t.rejects(bus.request(subject, bytes('?'), { timeoutMs: 200 }), RequestTimeoutError)
    await t.rejects(bus.request(subject, bytes('?'), { timeoutMs: 200 }), { code: 'bus_timeout', timeoutMs: 200 })
    await listener.waitFor(2)
  })

  t.test('a failing request handler sends no reply and is reported', async (t) => {
    const errors: HandlerErrorContext[] = []
    const bus = await open(t, { onError: (_error, context) => errors.push(context) })
    const subject = root('failsvc')
    await bus.serve(subject, () => { throw new Error('boom') })
    await t.rejects(bus.request(subject, bytes('?'), { timeoutMs: 300 }), RequestTimeoutError)
    t.same(errors, [{ kind: 'serve', pattern: subject, subject }])
  })

  t.test('a throwing handler does not break other subscribers', async (t) => {
    const errors: Array<{ error: unknown; context: HandlerErrorContext }> = []
    const bus = await open(t, { onError: (error, context) => errors.push({ error, context }) })
    const subject = root('throw')
    let thrown = 0
    await bus.subscribe(subject, async () => {
      thrown++
      throw new Error(`boom ${thrown}`)
    })
    const ok = collector()
    await bus.subscribe(subject, ok.handler)
    for (let i = 0; i < 3; i++) await bus.publish(subject, bytes(String(i)))
    await ok.waitFor(3)
    await settle(bus)
    t.equal(thrown, 3, 'the throwing handler keeps getting messages')
    t.equal(errors.length, 3)
    t.match(errors[0], { error: { message: 'boom 1' }, context: { kind: 'subscribe', pattern: subject, subject } })
  })

  t.test('unsubscribe stops delivery', async (t) => {
    const bus = await open(t)
    const subject = root('unsub')
    const first = collector()
    const witness = collector()
    const sub = await bus.subscribe(subject, first.handler)
    await bus.subscribe(subject, witness.handler)
    await bus.publish(subject, bytes('1'))
    await first.waitFor(1)
    await sub.unsubscribe()
    await sub.unsubscribe()
    await bus.publish(subject, bytes('2'))
    await witness.waitFor(2)
    await settle(bus)
    t.same(first.messages.map(text), ['1'])
    t.same(witness.messages.map(text), ['1', '2'])
  })

  t.test('drain lets a slow handler finish, then the bus is closed', async (t) => {
    const bus = await setup.makeBus()
    t.teardown(() => bus.close())
    const subject = root('drain')
    let finished = false
    let markStarted: () => void = () => undefined
    const started = new Promise<void>((resolve) => { markStarted = resolve })
    const after = collector()
    await bus.subscribe(`${subject}.after`, after.handler)
    await bus.subscribe(subject, async () => {
      markStarted()
      await sleep(300)
      // Handlers in flight may still publish while the bus drains.
      await bus.publish(`${subject}.late`, bytes('late'))
      finished = true
    })
    await bus.publish(subject, bytes('slow'))
    await started
    const draining = bus.drain()
    await t.rejects(bus.subscribe(`${subject}.new`, () => undefined), BusClosedError, 'no new subscriptions while draining')
    await draining
    t.ok(finished, 'drain waited for the handler')
    await t.rejects(bus.publish(subject, bytes('x')), BusClosedError)
    await t.rejects(bus.publish(subject, bytes('x')), { code: 'bus_closed' })
    await t.rejects(bus.subscribe(subject, () => undefined), BusClosedError)
    await t.rejects(bus.request(subject, bytes('x')), BusClosedError)
    await t.rejects(bus.ping(), BusClosedError)
    await bus.drain()
    await bus.close()
  })

  t.test('ping resolves while open and close makes the bus reject', async (t) => {
    const bus = await setup.makeBus()
    await bus.ping()
    t.pass('ping resolved')
    await bus.close()
    await bus.close()
    await t.rejects(bus.ping(), BusClosedError)
    await t.rejects(bus.publish(root('closed'), bytes('x')), BusClosedError)
  })

  t.test('rejects malformed subjects', async (t) => {
    const bus = await open(t)
    await t.rejects(bus.publish(`${prefix}a..b`, bytes('x')), InvalidSubjectError)
    await t.rejects(bus.publish(`${prefix}a.*`, bytes('x')), InvalidSubjectError)
    await t.rejects(bus.publish('', bytes('x')), { code: 'bus_invalid_subject' })
    await t.rejects(bus.subscribe(`${prefix}a.>.b`, () => undefined), InvalidSubjectError)
    await t.rejects(bus.request(`${prefix}a b`, bytes('x')), InvalidSubjectError)
  })
}
