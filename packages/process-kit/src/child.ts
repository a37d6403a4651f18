import { spawn, type ChildProcess, type Serializable } from 'node:child_process'
import { createInterface } from 'node:readline'
import { reachable, sleep } from './ports.js'

export interface ProcessSpec {
  /** Prefix of its log lines, and its name in errors. */
  name: string
  command: string
  args: string[]
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** How it is asked to stop (default SIGTERM; nginx stops gracefully on SIGQUIT). */
  stopSignal?: NodeJS.Signals
  /** Run it as this user (PostgreSQL refuses to run as root). */
  uid?: number
  gid?: number
  /** An IPC channel to a node child (`send`, `onMessage`), as for a worker that answers requests. */
  ipc?: boolean
}

/** Why a process ended: asked to (stop, kill, restart) or not (a crash, or it exited on its own). */
export interface ProcessExit {
  name: string
  /** When it ended (ms since the epoch). */
  at: number
  code: number | null
  signal: NodeJS.Signals | null
  requested: boolean
}

// Children still running when the parent exits are killed (one listener for all of them).
const living = new Set<ChildProcess>()
let exitHookInstalled = false
function killOnParentExit(child: ChildProcess): void {
  living.add(child)
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const orphan of living) orphan.kill('SIGKILL')
  })
}

/**
 * A child process that can be stopped, killed, stalled and started again
 * with the same command, as an orchestrator treats a pod. Its own process
 * group (so that a Ctrl-C reaches only the parent, which stops it in order),
 * and killed when the parent exits.
 */
export class ManagedProcess {
  readonly recent: string[] = []
  private child: ChildProcess | undefined
  private exitedPromise: Promise<ProcessExit> = Promise.resolve({ name: '', at: 0, code: null, signal: null, requested: true })
  private requested = false
  private readonly exitListeners = new Set<(exit: ProcessExit) => void>()
  private readonly lineListeners = new Set<(line: string) => void>()
  private readonly messageListeners = new Set<(message: unknown) => void>()

  constructor(
    readonly spec: ProcessSpec,
    private readonly log: (line: string) => void = () => {}
  ) {}

  get name(): string {
    return this.spec.name
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  /** Resolves when the current run ends. */
  get exited(): Promise<ProcessExit> {
    return this.exitedPromise
  }

  /** Called on every exit, requested or not. */
  onExit(listener: (exit: ProcessExit) => void): () => void {
    this.exitListeners.add(listener)
    return () => this.exitListeners.delete(listener)
  }

  start(): this {
    if (this.running) return this
    const { command, args, env, cwd, uid, gid, ipc } = this.spec
    const child = spawn(command, args, { env, cwd, uid, gid, stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])], detached: true })
    this.child = child
    this.requested = false
    const prefix = `${this.name.padEnd(11)}|`
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue
      createInterface({ input: stream }).on('line', (line) => {
        this.recent.push(line)
        if (this.recent.length > 40) this.recent.shift()
        this.log(`${prefix} ${line}`)
        for (const listener of this.lineListeners) listener(line)
      })
    }
    child.on('message', (message) => {
      for (const listener of this.messageListeners) listener(message)
    })
    killOnParentExit(child)
    this.exitedPromise = new Promise((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        living.delete(child)
        const exit = { name: this.name, at: Date.now(), code, signal, requested: this.requested }
        for (const listener of this.exitListeners) listener(exit)
        resolve(exit)
      }
      child.once('error', (error) => {
        this.recent.push(error.message)
        // 'exit' may never come for a process that could not be spawned.
        if (child.pid === undefined) finish(-1, null)
      })
      child.once('exit', finish)
    })
    return this
  }

  /** Sends `message` over the IPC channel (`spec.ipc`); false when there is none or it is closed. */
  send(message: Serializable): boolean {
    if (!this.child?.connected) return false
    this.child.send(message)
    return true
  }

  /** Called with every message the child sends over its IPC channel, in this run and later ones. */
  onMessage(listener: (message: unknown) => void): () => void {
    this.messageListeners.add(listener)
    return () => this.messageListeners.delete(listener)
  }

  /** Closes the IPC channel; a worker that exits on 'disconnect' then ends by itself. */
  disconnect(): void {
    if (this.child?.connected) this.child.disconnect()
  }

  /** Sends a signal without counting the exit it may cause as requested (SIGSTOP, SIGCONT, or a fault to inject). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child?.kill(signal)
  }

  /** Kills it at once (SIGKILL), as a node failure would; the exit counts as requested. */
  async kill(): Promise<ProcessExit> {
    if (!this.running) return this.exitedPromise
    this.requested = true
    this.child?.kill('SIGKILL')
    return this.exitedPromise
  }

  /** Asks it to stop (its stop signal), then SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<ProcessExit> {
    if (!this.running) return this.exitedPromise
    this.requested = true
    // A stalled process never handles its stop signal.
    this.child?.kill('SIGCONT')
    this.child?.kill(this.spec.stopSignal ?? 'SIGTERM')
    const timer = setTimeout(() => {
      this.log(`${this.name.padEnd(11)}| did not stop within ${graceMs} ms: killing it`)
      this.child?.kill('SIGKILL')
    }, graceMs)
    try {
      return await this.exitedPromise
    } finally {
      clearTimeout(timer)
    }
  }

  /** Resolves at the next line (of this run) that matches; rejects when the process exits first or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        this.lineListeners.delete(onLine)
        removeExit()
      }
      const onLine = (line: string): void => {
        if (!pattern.test(line)) return
        done()
        resolve(line)
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`${this.name} wrote no line matching ${pattern} within ${timeoutMs} ms: ${this.tail()}`))
      }, timeoutMs)
      const removeExit = this.onExit((exit) => {
        done()
        reject(new Error(`${this.name} exited (${exit.code ?? exit.signal}): ${this.tail()}`))
      })
      this.lineListeners.add(onLine)
    })
  }

  /** The last lines it wrote, for error messages. */
  tail(lines = 3): string {
    return this.recent.slice(-lines).join(' / ')
  }
}

/** Waits until `url` answers 2xx; fails early when `process` exits meanwhile. */
export async function waitHttpOk(url: string, options: { process?: ManagedProcess; timeoutMs?: number } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (options.process && !options.process.running) {
      const exit = await options.process.exited
      throw new Error(`${options.process.name} exited (${exit.code ?? exit.signal}) before it was ready: ${options.process.tail()}`)
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      await response.arrayBuffer()
      if (response.ok) return
    } catch {
      // not listening yet
    }
    await sleep(150)
  }
  throw new Error(`${options.process?.name ?? url} was not ready within ${timeoutMs} ms (${url})${options.process ? `: ${options.process.tail()}` : ''}`)
}

/** Waits until something listens on 127.0.0.1:`port`; fails early when `process` exits meanwhile. */
export async function waitListening(port: number, options: { process?: ManagedProcess; timeoutMs?: number } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (options.process && !options.process.running) {
      const exit = await options.process.exited
      throw new Error(`${options.process.name} exited (${exit.code ?? exit.signal}): ${options.process.tail()}`)
    }
    if (await reachable('127.0.0.1', port)) return
    await sleep(100)
  }
  throw new Error(`${options.process?.name ?? 'nothing'} did not listen on ${port} within ${timeoutMs} ms`)
}
