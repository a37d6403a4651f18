import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ConfigError } from '@chat/service-kit'
import { runToExit } from '@chat/service-kit/testing'
import { defaultReactionListPath, loadReactionList, parseReactionList, ReactionListError } from '../src/reaction-list.js'
import { allowedNames } from './helper.js'

const directory = mkdtempSync(join(tmpdir(), 'reaction-list-'))
t.teardown(() => rmSync(directory, { recursive: true, force: true }))

function listFile(name: string, text: string): string {
  const path = join(directory, name)
  writeFileSync(path, text)
  return path
}

t.test('the shipped list: six reactions in order, read relative to the module', async (t) => {
  const path = defaultReactionListPath()
  t.equal(path, fileURLToPath(new URL('../assets/reaction_list.json', import.meta.url)), 'assets/ next to src/ and dist/')
  const list = loadReactionList()
  t.same(list.names, allowedNames)
  t.same(list.entries, [
    { name: 'like', emoji: '👍', label: 'Like' },
    { name: 'love', emoji: '❤️', label: 'Love' },
    { name: 'laugh', emoji: '😂', label: 'Laugh' },
    { name: 'wow', emoji: '😮', label: 'Wow' },
    { name: 'sad', emoji: '😢', label: 'Sad' },
    { name: 'angry', emoji: '😠', label: 'Angry' }
  ])
  t.ok(list.has('like'))
  t.notOk(list.has('Like'), 'case-sensitive')
  t.notOk(list.has('toString'), 'no prototype names')
  t.match(list.etag, /^"[A-Za-z0-9_-]{27}"$/, 'a strong ETag: quoted, no W/')
  t.equal(loadReactionList(path).etag, list.etag, 'the same list, the same ETag')
  t.ok(Object.isFrozen(list.entries) && Object.isFrozen(list.entries[0]), 'nobody changes it after start')
})

t.test('the ETag is a hash of the list: another list, another ETag', async (t) => {
  const one = parseReactionList('[{"name":"up","emoji":"⬆️","label":"Up"}]', 'one.json')
  const two = parseReactionList('[{"name":"up","emoji":"⬆️","label":"Upvote"}]', 'two.json')
  t.not(one.etag, two.etag)
  t.equal(parseReactionList('[ {"label":"Up", "emoji":"⬆️", "name":"up"} ]', 'three.json').etag, one.etag, 'formatting and member order do not matter')
})

t.test('a byte order mark is accepted', async (t) => {
  const list = loadReactionList(listFile('bom.json', '\uFEFF[{"name":"up","emoji":"⬆️","label":"Up"}]'))
  t.same(list.names, ['up'])
})

t.test('a malformed file is a ReactionListError: one line naming the file and the problem', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['bad JSON', '[{"name": "like", ', /is not valid JSON/],
    ['bad JSON spread over lines', '[\n  {"name": "like"\n  "emoji": "x"}\n]', /is not valid JSON/],
    ['not an array', '{"like": "👍"}', /must be a JSON array/],
    ['empty', '[]', /is empty/],
    ['empty file', '', /is not valid JSON/],
    ['a string entry', '["like"]', /at \/0 /],
    ['missing emoji', '[{"name":"like","label":"Like"}]', /at \/0 is missing emoji/],
    ['unknown member', '[{"name":"like","emoji":"👍","label":"Like","colour":"blue"}]', /at \/0 has unknown members colour/],
    ['a number as label', '[{"name":"like","emoji":"👍","label":1}]', /at \/0\/label /],
    ['an empty name', '[{"name":"","emoji":"👍","label":"Like"}]', /at \/0\/name /],
    ['a name with a space', '[{"name":"thumbs up","emoji":"👍","label":"Like"}]', /at \/0\/name /],
    ['an upper-case name', '[{"name":"Like","emoji":"👍","label":"Like"}]', /at \/0\/name /],
    ['an empty emoji', '[{"name":"like","emoji":"","label":"Like"}]', /at \/0\/emoji /],
    [
      'duplicate names',
      '[{"name":"like","emoji":"👍","label":"Like"},{"name":"love","emoji":"❤️","label":"Love"},{"name":"like","emoji":"👌","label":"OK"}]',
      /names the reaction "like" twice \(at \/0 and \/2\)/
    ]
  ]
  for (const [label, text, problem] of cases) {
    const path = listFile(`${label.replaceAll(' ', '-')}.json`, text)
    let thrown: unknown
    try {
      loadReactionList(path)
    } catch (error) {
      thrown = error
    }
    t.type(thrown, ReactionListError, label)
    t.type(thrown, ConfigError, `${label}: configOrExit stops the process with it`)
    const message = (thrown as Error).message
    t.ok(message.startsWith(`Invalid reaction list ${path}: `), `${label}: names the file (${message})`)
    t.match(message, problem, label)
    t.notOk(message.includes('\n'), `${label}: one line`)
  }
})

t.test('a missing file names the file and the reason', async (t) => {
  const path = join(directory, 'nope.json')
  t.throws(() => loadReactionList(path), { name: 'ReactionListError', message: `Invalid reaction list ${path}: cannot be read (ENOENT)` })
  t.throws(() => loadReactionList(directory), { message: `Invalid reaction list ${directory}: cannot be read (EISDIR)` })
})

t.test('at start, a malformed list stops the process with exactly one line on standard error', async (t) => {
  const serviceKit = import.meta.resolve('@chat/service-kit')
  const reactionList = new URL('../dist/reaction-list.js', import.meta.url).href
  // What main.ts does with the list, as a process of its own, from the built package.
  const script = listFile(
    'start.mjs',
    `import { configOrExit } from ${JSON.stringify(serviceKit)}\n` +
      `import { loadReactionList } from ${JSON.stringify(reactionList)}\n` +
      'const list = configOrExit(() => loadReactionList(process.env.REACTION_LIST_TEST_FILE || undefined))\n' +
      "console.error(`started with ${list.names.join(' ')}`)\n"
  )
  const duplicate = listFile('dup.json', '[{"name":"like","emoji":"👍","label":"Like"},{"name":"like","emoji":"👍","label":"Like"}]')
  const failed = await runToExit(script, { REACTION_LIST_TEST_FILE: duplicate })
  t.equal(failed.code, 1)
  t.equal(failed.stderr, `Invalid reaction list ${duplicate}: names the reaction "like" twice (at /0 and /1)\n`)
  const fine = await runToExit(script, { REACTION_LIST_TEST_FILE: '' })
  t.equal(fine.code, 0, fine.stderr)
  t.equal(fine.stderr, 'started with like love laugh wow sad angry\n', 'dist/ finds assets/ by itself')
})
