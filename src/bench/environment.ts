import { readFileSync } from 'node:fs'
import os from 'node:os'

/** Where a benchmark ran (the SMP environment block). */
export interface Environment {
  cpuModel: string
  cores: number
  memoryBytes: number
  kernel: string
  os: string
  arch: string
  nodeVersion: string
  /** `local-processes` for the embedded runtime; `kubernetes` when KUBERNETES_SERVICE_HOST is set. */
  orchestrator: string
  hostname: string
  /** 1-minute load average when the run started: a busy machine skews figures. */
  loadAverage1m: number
}

/**
 * Capture the environment now.
 * @example const env = captureEnvironment() // { cpuModel: 'AMD EPYC…', cores: 2, … }
 */
export function captureEnvironment (): Environment {
  const cpus = os.cpus()
  return {
    cpuModel: cpus[0]?.model?.trim() || readCpuModel() || 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    os: `${os.type()} ${os.version?.() ?? ''}`.trim(),
    arch: os.arch(),
    nodeVersion: process.version,
    orchestrator: process.env.KUBERNETES_SERVICE_HOST ? 'kubernetes' : 'local-processes',
    hostname: os.hostname(),
    loadAverage1m: os.loadavg()[0]
  }
}

function readCpuModel (): string | undefined {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
    return m?.[1]
  } catch {
    return undefined
  }
}
