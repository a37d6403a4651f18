import t from 'tap'
import { assertPublishSubject, assertSubscribePattern, InvalidSubjectError, subjectMatches } from '../src/index.js'

t.test('subjectMatches follows NATS wildcard rules', async (t) => {
  const cases: Array<[pattern: string, subject: string, expected: boolean]> = [
    ['chat.room.a', 'chat.room.a', true],
    ['chat.room.a', 'chat.room.b', false],
    ['chat.room.a', 'chat.room.a.b', false],
    ['chat.room.a.b', 'chat.room.a', false],
    ['chat.room.*', 'chat.room.a', true],
    ['chat.room.*', 'chat.room.a.b', false],
    ['chat.room.*', 'chat.room', false],
    ['chat.*.typing', 'chat.r1.typing', true],
    ['chat.*.typing', 'chat.r1.x.typing', false],
    ['chat.room.>', 'chat.room.a', true],
    ['chat.room.>', 'chat.room.a.b.c', true],
    ['chat.room.>', 'chat.room', false],
    ['>', 'a', true],
    ['>', 'a.b', true],
    ['*', 'a', true],
    ['*', 'a.b', false],
    ['chat.room.*.message.>', 'chat.room.r1.message.created', true],
    ['chat.room.*.message.>', 'chat.room.r1.typing', false],
    ['chat.room.*.message.>', 'chat.room.r1.message', false],
    ['a.>.b', 'a.x.b', false],
    ['a..b', 'a..b', false],
    ['a.b', 'a..b', false],
    ['', '', false],
    ['a*', 'a*', true],
    ['a*', 'ab', false]
  ]
  for (const [pattern, subject, expected] of cases) {
    t.equal(subjectMatches(pattern, subject), expected, `${pattern} ~ ${subject}`)
  }
})

t.test('subject validation', async (t) => {
  t.doesNotThrow(() => assertPublishSubject('chat.room.r1.typing'))
  t.throws(() => assertPublishSubject('chat.room.*'), InvalidSubjectError)
  t.throws(() => assertPublishSubject('chat.>'), InvalidSubjectError)
  t.throws(() => assertPublishSubject('chat..room'), InvalidSubjectError)
  t.throws(() => assertPublishSubject('chat.room '), InvalidSubjectError)
  t.throws(() => assertPublishSubject(''), { code: 'bus_invalid_subject' })
  t.doesNotThrow(() => assertSubscribePattern('chat.*.x.>'))
  t.throws(() => assertSubscribePattern('chat.>.x'), InvalidSubjectError)
  t.throws(() => assertSubscribePattern('chat.'), InvalidSubjectError)
})
