/**
 * Fault injection decision for one request: delay and/or abort, each with its own percentage
 * (independent draws, as Envoy's fault filter). Matching the request against `matches` is the
 * router's job; this module only decides.
 */
import { parseDuration } from '../../config/duration.ts'
import type { FaultInjectionSpec } from '../../config/fault-injection.ts'

export interface FaultDecision {
  readonly delayMs: number
  readonly abortStatus: number | null
  /** gRPC status (1–16) a gRPC request is aborted with, or null (then the one `abortStatus` maps to). */
  readonly abortGrpcStatus: number | null
}

const NO_FAULT: FaultDecision = Object.freeze({ delayMs: 0, abortStatus: null, abortGrpcStatus: null })

/** Istio's upper-case gRPC status names (config) → codes; index = code. */
const GRPC_NAMES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL',
  'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED']

/**
 * @example
 * const fault = compileFault(fi.spec)           // at snapshot time
 * const d = fault.decide()                      // per request
 * if (d.delayMs > 0) await sleep(d.delayMs)
 * if (d.abortStatus !== null) throw new FaultAbortError('fault injected', d.abortStatus)
 */
export class CompiledFault {
  readonly delayMs: number
  /** Percent (0–100) of requests delayed; 0 when no delay is configured. */
  readonly delayPercent: number
  readonly abortStatus: number | null
  readonly abortGrpcStatus: number | null
  readonly abortPercent: number
  // Perf: the four possible decisions are built once; decide() returns one of them (no allocation).
  readonly #delayOnly: FaultDecision
  readonly #abortOnly: FaultDecision
  readonly #both: FaultDecision

  constructor (spec: Pick<FaultInjectionSpec, 'delay' | 'abort'>) {
    this.delayMs = spec.delay ? parseDuration(spec.delay.fixedDelay) : 0
    this.delayPercent = spec.delay && this.delayMs > 0 ? spec.delay.percentage : 0
    this.abortStatus = spec.abort ? spec.abort.httpStatus : null
    this.abortGrpcStatus = spec.abort?.grpcStatus !== undefined ? GRPC_NAMES.indexOf(spec.abort.grpcStatus) : null
    this.abortPercent = spec.abort ? spec.abort.percentage : 0
    const g = this.abortGrpcStatus
    this.#delayOnly = Object.freeze({ delayMs: this.delayMs, abortStatus: null, abortGrpcStatus: null })
    this.#abortOnly = Object.freeze({ delayMs: 0, abortStatus: this.abortStatus, abortGrpcStatus: g })
    this.#both = Object.freeze({ delayMs: this.delayMs, abortStatus: this.abortStatus, abortGrpcStatus: g })
  }

  /** Draw the decision for one request. `rand` returns [0, 1) (injectable for tests). */
  decide (rand: () => number = Math.random): FaultDecision {
    const delay = this.delayPercent > 0 && rand() * 100 < this.delayPercent
    const abort = this.abortPercent > 0 && rand() * 100 < this.abortPercent
    if (delay) return abort ? this.#both : this.#delayOnly
    return abort ? this.#abortOnly : NO_FAULT
  }
}

export function compileFault (spec: Pick<FaultInjectionSpec, 'delay' | 'abort'>): CompiledFault {
  return new CompiledFault(spec)
}
