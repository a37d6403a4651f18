// The faults of the chaos run. Each breaks one thing the way production
// does (a pod killed, a database restarted, a node lost, a reader that stops
// reading, a process frozen) and repairs it the way an orchestrator would.
import type { ChaosEnvironment } from './environment.js'
import type { Traffic } from './traffic.js'

export interface FaultContext {
  env: ChaosEnvironment
  traffic: Traffic
  holdMs: number
}

export interface Fault {
  name: string
  /** Which environment it needs: one nats-server, or the cluster of three. */
  nats: 'single' | 'cluster'
  inject(context: FaultContext): Promise<void>
  /** Undoes the fault; resolves once the broken part is back (a restarted process ready). */
  heal(context: FaultContext): Promise<void>
}

const sleep = (ms: number): Promise<void> => new Promise((wake) => setTimeout(wake, ms))

/** kill -9 of a service process, restarted after the hold as a pod would be. */
function killProcess(name: string): Fault {
  return {
    name: `kill -9 ${name}`,
    nats: 'single',
    async inject({ env }) {
      await env.services.processes.get(name)!.kill()
    },
    async heal({ env }) {
      await env.services.restart(name)
    }
  }
}

export const FAULTS: Fault[] = [
  killProcess('identity'),
  killProcess('rooms'),
  killProcess('messages'),
  killProcess('reactions'),
  killProcess('realtime-1'),
  killProcess('realtime-2'),
  {
    name: 'nats-server kill -9, restart',
    nats: 'single',
    async inject({ env }) {
      await env.nats[0]!.stop('SIGKILL')
    },
    async heal({ env }) {
      await env.nats[0]!.start()
    }
  },
  {
    name: 'postgres immediate stop, restart',
    nats: 'single',
    async inject({ env }) {
      await env.postgres.stop('immediate')
    },
    async heal({ env }) {
      await env.postgres.start()
    }
  },
  {
    // A gateway that cannot keep up with its NATS subscriptions: frozen while
    // its rooms get a burst of long messages, so that the server's buffer for
    // it passes max_pending (the environment's nats-server has a small one)
    // and the server cuts it off as a slow consumer, dropping what it held.
    // Core NATS is at most once: the gateway must notice the gaps and fill
    // them from the store.
    name: 'slow consumer: realtime-2 frozen under a burst, cut off by NATS',
    nats: 'single',
    async inject({ env, traffic }) {
      const startedAt = Date.now()
      env.services.processes.get('realtime-2')!.signal('SIGSTOP')
      // The kernel buffers megabytes before the server's own buffer fills: burst until the server gives up on it.
      for (let round = 0; round < 12; round++) {
        await traffic.burst(traffic.rooms, 10, 3_900)
        if (env.logs.some((entry) => entry.at >= startedAt && /Slow Consumer Detected/.test(entry.line))) return
      }
    },
    async heal({ env }) {
      env.services.processes.get('realtime-2')!.signal('SIGCONT')
    }
  },
  {
    name: 'realtime-1 stalled (SIGSTOP, SIGCONT)',
    nats: 'single',
    async inject({ env }) {
      env.services.processes.get('realtime-1')!.signal('SIGSTOP')
    },
    async heal({ env }) {
      env.services.processes.get('realtime-1')!.signal('SIGCONT')
      await sleep(100)
    }
  },
  {
    name: 'nats cluster: one of three nodes kill -9, restart',
    nats: 'cluster',
    async inject({ env }) {
      await env.nats[0]!.stop('SIGKILL')
    },
    async heal({ env }) {
      await env.nats[0]!.start()
    }
  }
]
