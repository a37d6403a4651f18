import t from 'tap'
import { ManagedProcess, freePort, portIsFree, waitListening } from '../src/index.js'

const node = process.execPath
const server = (port: number): string =>
  `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1', () => console.log('listening ${port}'))`

t.test('a process is killed, restarted and stalled as an orchestrator would; only unasked exits count as crashes', async (t) => {
  const port = await freePort()
  const lines: string[] = []
  const child = new ManagedProcess({ name: 'web', command: node, args: ['-e', server(port)] }, (line) => lines.push(line))
  const exits: Array<{ requested: boolean; signal: string | null }> = []
  child.onExit((exit) => exits.push({ requested: exit.requested, signal: exit.signal }))
  t.teardown(() => child.kill())

  child.start()
  t.match(await child.waitForLine(/listening/), `listening ${port}`, 'waitForLine sees its output')
  await waitListening(port, { process: child })
  t.match(lines[0], /^web\s+\| listening/, 'log lines carry its name')

  await child.kill()
  t.same(exits.at(-1), { requested: true, signal: 'SIGKILL' }, 'a kill is a requested exit')
  t.ok(await portIsFree(port), 'the port is free again')

  child.start()
  await waitListening(port, { process: child })
  child.signal('SIGSTOP')
  const stalled = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(300) }).then(() => 'answered', () => 'no answer')
  t.equal(stalled, 'no answer', 'a stopped process does not answer')
  child.signal('SIGCONT')
  t.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'ok', 'and answers again after SIGCONT')

  child.signal('SIGTERM')
  const exit = await child.exited
  t.equal(exit.requested, false, 'an exit nobody asked for through the API is not requested (a crash to the launcher)')
})

t.test('a process that exits before it is ready is reported with its last lines', async (t) => {
  const child = new ManagedProcess({ name: 'broken', command: node, args: ['-e', "console.error('bad config: PORT'); process.exit(3)"] })
  child.start()
  await t.rejects(child.waitForLine(/never/), /broken exited \(3\): bad config: PORT/)
})
