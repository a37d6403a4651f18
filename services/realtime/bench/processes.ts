// The benchmark's child processes: node programs started through `sh` (to
// raise the open-file limit) and `taskset` (when pinning), on
// @chat/process-kit's ManagedProcess; and a request/answer channel to the
// ones that are workers (the floor, the client workers).
import { ManagedProcess } from '@chat/process-kit'

export interface NodeProcessOptions {
  cwd: string
  env?: Record<string, string>
  ipc?: boolean
  /** The CPU to pin it to when `pin` is set. */
  cpu?: number
  pin?: boolean
}

/**
 * A node child, not started yet. Through `sh` so that its open-file limit is
 * raised to the hard limit first (10k sockets need more than a common soft
 * limit of 1024), and through `taskset` when pinning; `exec` keeps the pid
 * the node process's. An exit nobody asked for is reported.
 */
export function nodeProcess(name: string, args: string[], options: NodeProcessOptions): ManagedProcess {
  const command = [...(options.pin && options.cpu !== undefined ? ['taskset', '-c', String(options.cpu)] : []), process.execPath, ...args]
  const child = new ManagedProcess(
    {
      name,
      command: '/bin/sh',
      args: ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...command],
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      ipc: options.ipc ?? false
    },
    (line) => console.log(line)
  )
  child.onExit((exit) => {
    if (!exit.requested) console.error(`# ${name} (pid ${child.pid}) exited: ${exit.code ?? exit.signal}`)
  })
  return child
}

interface Answer {
  id?: number
  result?: unknown
  error?: string
}

/** A worker child answering `{ id }`-tagged requests; its first untagged message says it is ready. */
export class Rpc {
  private next = 1
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  readonly ready: Promise<Record<string, unknown>>

  /** Listens to `child` (made with `ipc`), then starts it. */
  constructor(readonly child: ManagedProcess) {
    let firstMessage: (value: Record<string, unknown>) => void = () => undefined
    let failed: (error: Error) => void = () => undefined
    this.ready = new Promise((resolve, reject) => {
      firstMessage = resolve
      failed = reject
    })
    // Unhandled only until someone awaits it; an early exit is reported by then.
    this.ready.catch(() => undefined)
    child.onMessage((raw) => {
      const message = raw as Answer & Record<string, unknown>
      if (message.id === undefined) {
        firstMessage(message)
        return
      }
      const waiter = this.waiting.get(message.id)
      if (!waiter) return
      this.waiting.delete(message.id)
      if (message.error) waiter.reject(new Error(`${child.name}: ${message.error}`))
      else waiter.resolve(message.result ?? message)
    })
    child.onExit((exit) => {
      const error = new Error(`${child.name} exited with ${exit.code ?? exit.signal}`)
      failed(error)
      for (const waiter of this.waiting.values()) waiter.reject(error)
      this.waiting.clear()
    })
    child.start()
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  call<T>(command: Record<string, unknown>): Promise<T> {
    const id = this.next++
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve, reject })
      if (!this.child.send({ ...command, id })) {
        this.waiting.delete(id)
        reject(new Error(`${this.child.name} is not running`))
      }
    })
  }
}
