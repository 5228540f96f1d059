import { randomFillSync } from 'node:crypto'

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) with B3 accepted on input.
 *
 * ```
 *  incoming headers ──extractTraceContext──► { traceId, parentSpanId, sampled?, tracestate }
 *        │  (traceparent wins; else b3; else x-b3-*; else none → new trace)
 *        ▼
 *  startSpan(incoming, sampler) ──► SpanContext { traceId, spanId (new), parentSpanId, sampled, tracestate }
 *        ▼
 *  formatTraceparent(ctx) → outgoing `traceparent`; `tracestate` passed through unchanged
 * ```
 */

export interface IncomingTrace {
  /** 32 lower-case hex digits. */
  traceId: string
  /** The caller's span id (16 hex): the parent of the span this hop makes. */
  parentSpanId: string
  /** true/false when the caller decided; undefined when it left the decision to us (B3 without sampled). */
  sampled: boolean | undefined
  /** Raw `tracestate` to pass through ('' when absent). */
  tracestate: string
}

export interface SpanContext {
  traceId: string
  spanId: string
  /** undefined for a root span. */
  parentSpanId: string | undefined
  sampled: boolean
  tracestate: string
}

const HEX = /^[0-9a-f]+$/
const ZERO_TRACE = '00000000000000000000000000000000'
const ZERO_SPAN = '0000000000000000'

/**
 * Parses a `traceparent` header value; null when invalid (then the request starts a new trace).
 * Version 00 must be exactly 55 chars; a higher version is read by its first four fields (forward compatibility).
 * @example parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01') // { traceId: '4bf9…', parentSpanId: '00f0…', sampled: true }
 */
export function parseTraceparent (value: string): { traceId: string, parentSpanId: string, sampled: boolean } | null {
  const v = value.length > 55 ? value.trim() : value
  if (v.length < 55 || v.charCodeAt(2) !== 45 || v.charCodeAt(35) !== 45 || v.charCodeAt(52) !== 45) return null
  // Perf: validate lower-case hex in place (no regex, no substring) before slicing out the two ids.
  if (!isLowerHex(v, 0, 2) || !isLowerHex(v, 3, 35) || !isLowerHex(v, 36, 52) || !isLowerHex(v, 53, 55)) return null
  const v0 = v.charCodeAt(0)
  const v1 = v.charCodeAt(1)
  if (v0 === 102 && v1 === 102) return null // version ff is invalid
  if (v0 === 48 && v1 === 48 ? v.length !== 55 : (v.length > 55 && v.charCodeAt(55) !== 45)) return null
  const traceId = v.slice(3, 35)
  const parentSpanId = v.slice(36, 52)
  if (traceId === ZERO_TRACE || parentSpanId === ZERO_SPAN) return null
  return { traceId, parentSpanId, sampled: (hexVal(v.charCodeAt(54)) & 1) === 1 }
}

function isLowerHex (s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i)
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false
  }
  return true
}

function hexVal (c: number): number { return c <= 57 ? c - 48 : c - 87 }

/** `00-<trace-id>-<span-id>-<01|00>` */
export function formatTraceparent (traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`
}

/**
 * B3 single header: `{traceId}-{spanId}[-{sampled}[-{parentSpanId}]]`, or just `0`/`1`/`d` (sampling only: ignored
 * here as it carries no ids). 64-bit trace ids are left-padded to 128 bits. Debug (`d`) counts as sampled.
 */
export function parseB3Single (value: string): { traceId: string, parentSpanId: string, sampled: boolean | undefined } | null {
  const parts = value.trim().split('-')
  if (parts.length < 2 || parts.length > 4) return null
  const traceId = normTraceId(parts[0])
  const spanId = parts[1].toLowerCase()
  if (traceId === null || spanId.length !== 16 || !HEX.test(spanId) || spanId === ZERO_SPAN) return null
  let sampled: boolean | undefined
  if (parts.length >= 3) {
    const s = parts[2]
    if (s === '1' || s === 'd') sampled = true
    else if (s === '0') sampled = false
    else return null
  }
  return { traceId, parentSpanId: spanId, sampled }
}

/** B3 multi headers (`x-b3-traceid`, `x-b3-spanid`, `x-b3-sampled`, `x-b3-flags: 1` = debug). */
export function parseB3Multi (traceIdH: string | undefined, spanIdH: string | undefined, sampledH: string | undefined, flagsH?: string): { traceId: string, parentSpanId: string, sampled: boolean | undefined } | null {
  if (traceIdH === undefined || spanIdH === undefined) return null
  const traceId = normTraceId(traceIdH.trim())
  const spanId = spanIdH.trim().toLowerCase()
  if (traceId === null || spanId.length !== 16 || !HEX.test(spanId) || spanId === ZERO_SPAN) return null
  let sampled: boolean | undefined
  if (flagsH?.trim() === '1') sampled = true
  else if (sampledH !== undefined) {
    const s = sampledH.trim().toLowerCase()
    sampled = s === '1' || s === 'true' ? true : s === '0' || s === 'false' ? false : undefined
  }
  return { traceId, parentSpanId: spanId, sampled }
}

function normTraceId (t: string): string | null {
  const id = t.toLowerCase()
  if ((id.length !== 16 && id.length !== 32) || !HEX.test(id)) return null
  const full = id.length === 16 ? '0000000000000000' + id : id
  return full === ZERO_TRACE ? null : full
}

/**
 * Reads trace context from a flat lower-cased header list `[name0, value0, name1, value1, …]`.
 * `traceparent` wins over B3; `tracestate` is kept only with a valid `traceparent` (spec §3.3). Several
 * `tracestate` lines are joined with ','.
 * @example extractTraceContext(['traceparent', '00-4bf9…-00f0…-01', 'tracestate', 'congo=t61rcWkgMzE'])
 */
export function extractTraceContext (headers: readonly string[]): IncomingTrace | null {
  let traceparent: string | undefined
  let tracestate = ''
  let b3: string | undefined
  let b3Trace: string | undefined
  let b3Span: string | undefined
  let b3Sampled: string | undefined
  let b3Flags: string | undefined
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]
    // Perf: dispatch on length first; most headers are skipped after one integer compare.
    switch (n.length) {
      case 11:
        if (n === 'traceparent') traceparent ??= headers[i + 1]
        else if (n === 'x-b3-spanid') b3Span ??= headers[i + 1]
        break
      case 10:
        if (n === 'tracestate') tracestate = tracestate === '' ? headers[i + 1] : `${tracestate},${headers[i + 1]}`
        else if (n === 'x-b3-flags') b3Flags ??= headers[i + 1]
        break
      case 12:
        if (n === 'x-b3-traceid') b3Trace ??= headers[i + 1]
        else if (n === 'x-b3-sampled') b3Sampled ??= headers[i + 1]
        break
      case 2:
        if (n === 'b3') b3 ??= headers[i + 1]
        break
    }
  }
  if (traceparent !== undefined) {
    const tp = parseTraceparent(traceparent)
    if (tp !== null) return { traceId: tp.traceId, parentSpanId: tp.parentSpanId, sampled: tp.sampled, tracestate }
  }
  const b = b3 !== undefined ? parseB3Single(b3) : parseB3Multi(b3Trace, b3Span, b3Sampled, b3Flags)
  if (b !== null) return { traceId: b.traceId, parentSpanId: b.parentSpanId, sampled: b.sampled, tracestate: '' }
  return null
}

// --- ids from a random pool ----------------------------------------------------------------------
// Perf: one randomFillSync + one hex conversion per 8 KiB (512 trace ids), then each id is a slice of that
// string: ~3.5x faster than Buffer#toString('hex', a, b) per id (bench/micro/telemetry.bench.ts).
const POOL_BYTES = 8192
const poolBuf = Buffer.allocUnsafe(POOL_BYTES)
let poolHex = ''
let poolOffset = 0

function take (bytes: number): string {
  const n = bytes * 2
  if (poolOffset + n > poolHex.length) { randomFillSync(poolBuf); poolHex = poolBuf.toString('hex'); poolOffset = 0 }
  const s = poolHex.slice(poolOffset, poolOffset + n)
  poolOffset += n
  return s
}

/** 16 random bytes as 32 hex digits, never all zero. */
export function newTraceId (): string {
  let id = take(16)
  while (id === ZERO_TRACE) id = take(16)
  return id
}

/** 8 random bytes as 16 hex digits, never all zero. */
export function newSpanId (): string {
  let id = take(8)
  while (id === ZERO_SPAN) id = take(8)
  return id
}

/** Decides whether a new trace is sampled; honours the caller's decision when there is one. */
export type Sampler = (incomingSampled: boolean | undefined) => boolean

/**
 * Sampler from MeshConfig `tracing.sampling` (percent of *new* traces). A caller's sampled flag is honoured.
 * @example const sample = createSampler(meshConfig.tracing.enabled ? meshConfig.tracing.sampling : 0)
 */
export function createSampler (percent: number): Sampler {
  if (percent >= 100) return (incoming) => incoming ?? true
  if (percent <= 0) return (incoming) => incoming ?? false
  const p = percent / 100
  return (incoming) => incoming ?? Math.random() < p
}

/**
 * Sampler for MeshConfig `spec.tracing`: disabled tracing samples nothing new (a caller's sampled flag is
 * still honoured, so traces started upstream stay whole).
 * @example const sample = samplerFor(meshConfig.tracing)
 */
export function samplerFor (tracing: { enabled: boolean, sampling: number }): Sampler {
  return createSampler(tracing.enabled ? tracing.sampling : 0)
}

/**
 * The span this hop makes: continues the incoming trace (new span id, caller's span as parent) or starts one.
 * @example const span = startSpan(extractTraceContext(headers), sampler); headers.push('traceparent', formatTraceparent(span.traceId, span.spanId, span.sampled))
 */
export function startSpan (incoming: IncomingTrace | null, sampler: Sampler): SpanContext {
  if (incoming === null) {
    return { traceId: newTraceId(), spanId: newSpanId(), parentSpanId: undefined, sampled: sampler(undefined), tracestate: '' }
  }
  return { traceId: incoming.traceId, spanId: newSpanId(), parentSpanId: incoming.parentSpanId, sampled: sampler(incoming.sampled), tracestate: incoming.tracestate }
}
