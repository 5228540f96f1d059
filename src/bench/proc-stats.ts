import { readdirSync, readFileSync } from 'node:fs'

/** CPU time and memory of one process tree (a proxy and, for nginx/HAProxy, its workers). */
export interface ProcSample {
  /** user + system CPU seconds consumed so far, summed over the tree. */
  cpuSeconds: number
  /** Resident set size now, bytes, summed over the tree. */
  rssBytes: number
  /** Peak RSS (VmHWM), bytes, summed over the tree. */
  peakRssBytes: number
  pids: number[]
}

const CLK_TCK = 100 // sysconf(_SC_CLK_TCK) on Linux

/** utime + stime in seconds and the parent pid from /proc/<pid>/stat (comm may contain spaces). */
export function readStat (pid: number): { cpuSeconds: number, ppid: number } | null {
  let s: string
  try { s = readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { return null }
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ')
  // rest[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
  return { ppid: Number(rest[1]), cpuSeconds: (Number(rest[11]) + Number(rest[12])) / CLK_TCK }
}

/** VmRSS and VmHWM in bytes from /proc/<pid>/status. */
export function readMemory (pid: number): { rssBytes: number, peakRssBytes: number } | null {
  let s: string
  try { s = readFileSync(`/proc/${pid}/status`, 'utf8') } catch { return null }
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0) * 1024
  return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') }
}

/** The pid and all its descendants (nginx master → workers). */
export function processTree (pid: number): number[] {
  const children = new Map<number, number[]>()
  let entries: string[] = []
  try { entries = readdirSync('/proc') } catch { return [pid] }
  for (const e of entries) {
    const p = Number(e)
    if (!Number.isInteger(p)) continue
    const st = readStat(p)
    if (st === null) continue
    const list = children.get(st.ppid)
    if (list === undefined) children.set(st.ppid, [p]); else list.push(p)
  }
  const out: number[] = []
  const stack = [pid]
  while (stack.length > 0) {
    const p = stack.pop()!
    out.push(p)
    for (const c of children.get(p) ?? []) stack.push(c)
  }
  return out
}

/** Sample a process tree now. */
export function sampleTree (pids: number[]): ProcSample {
  let cpu = 0
  let rss = 0
  let peak = 0
  for (const p of pids) {
    cpu += readStat(p)?.cpuSeconds ?? 0
    const m = readMemory(p)
    rss += m?.rssBytes ?? 0
    peak += m?.peakRssBytes ?? 0
  }
  return { cpuSeconds: cpu, rssBytes: rss, peakRssBytes: peak, pids }
}

/** Resource use of one proxy over a measured window. */
export interface ProxyUsage {
  name: string
  cpuSeconds: number
  /** CPU cores used on average over the window (1.0 = one core busy). */
  cpuCores: number
  /** CPU µs per request through this proxy. */
  cpuUsPerRequest: number
  rssBytes: number
  peakRssBytes: number
}

export function usageBetween (name: string, before: ProcSample, after: ProcSample, wallSeconds: number, requests: number): ProxyUsage {
  const cpu = Math.max(0, after.cpuSeconds - before.cpuSeconds)
  return {
    name,
    cpuSeconds: round(cpu, 3),
    cpuCores: wallSeconds > 0 ? round(cpu / wallSeconds, 3) : 0,
    cpuUsPerRequest: requests > 0 ? round(cpu * 1e6 / requests, 1) : 0,
    rssBytes: after.rssBytes,
    peakRssBytes: after.peakRssBytes
  }
}

function round (x: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}
