import { connect, createServer } from 'node:net'

/** True when nothing listens on 127.0.0.1:`port` (checked by listening on it for a moment). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer()
    server.once('error', () => done(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => done(true)))
  })
}

/**
 * A free port: the first from `from` upwards, or one the kernel picks when
 * `from` is left out. Another process may take it before it is used; callers
 * that start children (which cannot report a port of their own choosing) accept that.
 */
export async function freePort(from?: number): Promise<number> {
  if (from === undefined) {
    return new Promise((resolve, reject) => {
      const probe = createServer()
      probe.once('error', reject)
      probe.listen({ port: 0, host: '127.0.0.1' }, () => {
        const address = probe.address()
        probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
      })
    })
  }
  for (let port = from; port < Math.min(from + 1000, 65_536); port++) if (await portIsFree(port)) return port
  throw new Error(`no free port between ${from} and ${from + 999}`)
}

/** True when a TCP connection to host:port succeeds within `timeoutMs`. */
export function reachable(host: string, port: number, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port })
    socket.setTimeout(timeoutMs)
    socket.once('connect', () => { socket.destroy(); done(true) })
    socket.once('timeout', () => { socket.destroy(); done(false) })
    socket.once('error', () => done(false))
  })
}

export const sleep = (ms: number): Promise<void> => new Promise((wake) => setTimeout(wake, ms))
