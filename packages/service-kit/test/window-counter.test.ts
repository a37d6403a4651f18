import t from 'tap'
import { createWindowCounter } from '../src/index.js'

t.test('counts per key within the window', async (t) => {
  const counter = createWindowCounter(2, 60_000)
  t.equal(counter.retryAfter('a'), 0)
  counter.hit('a')
  counter.hit('a')
  t.ok(counter.retryAfter('a') > 0 && counter.retryAfter('a') <= 60)
  t.equal(counter.retryAfter('b'), 0, 'keys are independent')
  counter.reset('a')
  t.equal(counter.retryAfter('a'), 0)
})

t.test('a window ends', async (t) => {
  const counter = createWindowCounter(1, 20)
  counter.hit('a')
  t.ok(counter.retryAfter('a') > 0)
  await new Promise((resolve) => setTimeout(resolve, 40))
  t.equal(counter.retryAfter('a'), 0)
})

t.test('limit 0 turns it off, and the key count is bounded', async (t) => {
  const off = createWindowCounter(0, 60_000)
  for (let index = 0; index < 10; index++) off.hit('a')
  t.equal(off.retryAfter('a'), 0)
  const bounded = createWindowCounter(1, 60_000, 3)
  for (const key of ['a', 'b', 'c', 'd']) bounded.hit(key)
  t.equal(bounded.retryAfter('a'), 0, 'the oldest key was forgotten to make room')
  t.ok(bounded.retryAfter('d') > 0)
})
