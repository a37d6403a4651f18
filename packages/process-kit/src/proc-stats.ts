// What /proc tells about processes: the CPU time they used, their memory.
// Benchmarks read it before and after a round to put a CPU cost on each
// process of the path (Linux only; elsewhere every figure is 0).
import { readdirSync, readFileSync } from 'node:fs'

const CLOCK_TICKS = 100

/** Parent and CPU seconds (user + system) of one process, or undefined when it is gone. */
function readStat(pid: number): { ppid: number; cpuSeconds: number; comm: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { ppid: Number(fields[1]), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS, comm }
  } catch {
    return undefined
  }
}

function allPids(): number[] {
  try {
    return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number)
  } catch {
    return []
  }
}

/** The name of a process (its `comm`), or undefined when there is none with that pid on this machine. */
export function processName(pid: number): string | undefined {
  return readStat(pid)?.comm
}

/** CPU seconds one process has used so far (0 when it is gone). */
export function cpuSecondsOf(pid: number | undefined): number {
  return pid === undefined ? 0 : (readStat(pid)?.cpuSeconds ?? 0)
}

/**
 * CPU seconds of a process and all its descendants alive now (nginx's
 * workers, PostgreSQL's backends). A child that ended takes its time with it:
 * sample before and after a round and keep differences of at least 0.
 */
export function cpuSecondsOfTree(pid: number | undefined): number {
  if (pid === undefined) return 0
  const stats = new Map<number, { ppid: number; cpuSeconds: number }>()
  for (const candidate of allPids()) {
    const stat = readStat(candidate)
    if (stat) stats.set(candidate, stat)
  }
  let total = 0
  const queue = [pid]
  const children = new Map<number, number[]>()
  for (const [candidate, stat] of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), candidate])
  while (queue.length > 0) {
    const next = queue.pop()!
    total += stats.get(next)?.cpuSeconds ?? 0
    queue.push(...(children.get(next) ?? []))
  }
  return total
}

/** CPU seconds of every process named `comm` (all nats-servers, all postgres processes of the machine). */
export function cpuSecondsByName(comm: string): number {
  let total = 0
  for (const pid of allPids()) {
    const stat = readStat(pid)
    if (stat?.comm === comm) total += stat.cpuSeconds
  }
  return total
}

/** CPU seconds the whole machine has spent busy (all cores, idle and iowait excluded). */
export function machineCpuSeconds(): number {
  try {
    const [line] = readFileSync('/proc/stat', 'utf8').split('\n')
    const fields = (line ?? '').trim().split(/\s+/).slice(1).map(Number)
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
    return (fields.reduce((sum, value) => sum + value, 0) - idle) / CLOCK_TICKS
  } catch {
    return 0
  }
}

/** A field of /proc/<pid>/status in KiB (VmRSS, VmHWM...), 0 when unknown. */
export function statusKiB(pid: number | undefined, field: string): number {
  if (pid === undefined) return 0
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) : 0
  } catch {
    return 0
  }
}

/** Soft and hard open-file limits of a process, `soft/hard` ('?' when unknown). */
export function openFileLimit(pid: number | undefined): string {
  if (pid === undefined) return '?'
  try {
    const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))
    return match ? `${match[1]}/${match[2]}` : '?'
  } catch {
    return '?'
  }
}

export interface ProcessInfo {
  pid: number
  ppid: number
  comm: string
  /** Its command line, arguments separated by spaces. */
  command: string
  cpuSeconds: number
}

/** Every live descendant of `rootPid` (not itself), with its command line and CPU time. */
export function descendantsOf(rootPid: number): ProcessInfo[] {
  const infos: ProcessInfo[] = []
  for (const pid of allPids()) {
    const stat = readStat(pid)
    if (!stat) continue
    let command = ''
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ')
    } catch {
      // gone meanwhile
    }
    infos.push({ pid, ppid: stat.ppid, comm: stat.comm, command, cpuSeconds: stat.cpuSeconds })
  }
  const byParent = new Map<number, ProcessInfo[]>()
  for (const info of infos) byParent.set(info.ppid, [...(byParent.get(info.ppid) ?? []), info])
  const found: ProcessInfo[] = []
  const queue = [...(byParent.get(rootPid) ?? [])]
  while (queue.length > 0) {
    const next = queue.pop()!
    found.push(next)
    queue.push(...(byParent.get(next.pid) ?? []))
  }
  return found
}
