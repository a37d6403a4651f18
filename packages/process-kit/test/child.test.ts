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

t.test('a child with an IPC channel answers messages; disconnect lets it end by itself', async (t) => {
  const echo = "process.on('message', (m) => process.send({ echo: m })); process.on('disconnect', () => process.exit(0)); process.send({ ready: true })"
  const child = new ManagedProcess({ name: 'worker', command: node, args: ['-e', echo], ipc: true })
  const messages: unknown[] = []
  child.onMessage((message) => messages.push(message))
  t.teardown(() => child.kill())
  t.notOk(child.send({ early: true }), 'nothing is sent before it runs')
  child.start()
  const until = async (count: number): Promise<void> => {
    while (messages.length < count) await new Promise((wake) => setTimeout(wake, 10))
  }
  await until(1)
  t.ok(child.send({ n: 1 }), 'send reports the message went out')
  await until(2)
  t.same(messages, [{ ready: true }, { echo: { n: 1 } }])
  child.disconnect()
  const exit = await child.exited
  t.same({ code: exit.code, requested: exit.requested }, { code: 0, requested: false }, 'it ended on its own once the channel closed')
  t.notOk(child.send({ late: true }), 'nothing is sent once it has ended')
})

t.test('a child without an IPC channel sends nothing', async (t) => {
  const child = new ManagedProcess({ name: 'plain', command: node, args: ['-e', 'setTimeout(() => {}, 10_000)'] })
  t.teardown(() => child.kill())
  child.start()
  t.notOk(child.send({ n: 1 }))
})
