/**
 * Check a document written in protobuf's JSON mapping (what Envoy reads from a bootstrap file) against a
 * message type of the loaded protos, strictly: unknown field names, wrong value types, unknown enum names,
 * malformed or out-of-range durations and Any values of a type the protos lack are all reported with
 * their path. On success, returns the message (so it can be encoded and decoded again).
 *
 * protobufjs' own `fromObject` silently drops unknown keys and has no JSON form for Duration or Struct;
 * this walker is the strict reader Envoy's `JsonStringToMessage` would be.
 *
 * @example
 * const { problems } = fromProto3Json(xdsType('envoy.config.bootstrap.v3.Bootstrap'), JSON.parse(text))
 */
import protobuf from 'protobufjs'
import { xdsRoot } from './protos.ts'

export interface JsonProblem { path: string, reason: string }

const DURATION = /^(-?)(\d+)(?:\.(\d{1,9}))?s$/
const MAX_DURATION_SECONDS = 315_576_000_000
const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map(n => `.google.protobuf.${n}`))

export function fromProto3Json (type: protobuf.Type, json: unknown): { message: protobuf.Message | null, problems: JsonProblem[] } {
  const problems: JsonProblem[] = []
  const plain = convertMessage(type, json, '', problems)
  if (problems.length > 0) return { message: null, problems }
  const message = type.fromObject(plain as Record<string, unknown>)
  const err = type.verify(message)
  if (err !== null) problems.push({ path: '', reason: err })
  return { message: problems.length > 0 ? null : message, problems }
}

function convertMessage (type: protobuf.Type, json: unknown, path: string, problems: JsonProblem[]): unknown {
  const full = type.fullName
  if (full === '.google.protobuf.Duration') return duration(json, path, problems)
  if (WRAPPERS.has(full)) return { value: json }
  if (full === '.google.protobuf.Struct') return isObject(json, path, problems) ? { fields: Object.fromEntries(Object.entries(json).map(([k, v]) => [k, structValue(v)])) } : {}
  if (full === '.google.protobuf.Value') return structValue(json)
  if (full === '.google.protobuf.Any') return anyValue(json, path, problems)
  if (!isObject(json, path, problems)) return {}
  const out: Record<string, unknown> = {}
  const seenOneofs = new Map<string, string>()
  for (const [key, value] of Object.entries(json)) {
    const field = type.fields[key] ?? Object.values(type.fields).find(f => camel(f.name) === key)
    const at = path === '' ? key : `${path}.${key}`
    if (field === undefined) { problems.push({ path: at, reason: `unknown field of ${full.slice(1)}` }); continue }
    if (field.partOf !== null && field.partOf !== undefined) {
      const other = seenOneofs.get(field.partOf.name)
      if (other !== undefined) problems.push({ path: at, reason: `oneof ${field.partOf.name} already set by ${other}` })
      seenOneofs.set(field.partOf.name, key)
    }
    if (value === null) continue
    out[field.name] = convertField(field, value, at, problems)
  }
  return out
}

function convertField (field: protobuf.Field, value: unknown, path: string, problems: JsonProblem[]): unknown {
  field.resolve()
  if (field.map) {
    if (!isObject(value, path, problems)) return {}
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convertScalarOrMessage(field, v, `${path}[${k}]`, problems)]))
  }
  if (field.repeated) {
    if (!Array.isArray(value)) { problems.push({ path, reason: 'must be a list' }); return [] }
    return value.map((v, i) => convertScalarOrMessage(field, v, `${path}[${i}]`, problems))
  }
  return convertScalarOrMessage(field, value, path, problems)
}

function convertScalarOrMessage (field: protobuf.Field, value: unknown, path: string, problems: JsonProblem[]): unknown {
  const rt = field.resolvedType
  if (rt instanceof protobuf.Type) return convertMessage(rt, value, path, problems)
  if (rt instanceof protobuf.Enum) {
    if (typeof value === 'number' ? !Object.values(rt.values).includes(value) : typeof value !== 'string' || !(value in rt.values)) {
      problems.push({ path, reason: `not a value of enum ${rt.name}: ${JSON.stringify(value)}` })
    }
    return value
  }
  switch (field.type) {
    case 'string': case 'bytes':
      if (typeof value !== 'string') problems.push({ path, reason: `must be a string (${field.type})` })
      return value
    case 'bool':
      if (typeof value !== 'boolean') problems.push({ path, reason: 'must be true or false' })
      return value
    default: {
      const n = typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value
      if (typeof n !== 'number' || !Number.isFinite(n)) problems.push({ path, reason: `must be a number (${field.type})` })
      else if (field.type.startsWith('uint') && n < 0) problems.push({ path, reason: `must not be negative (${field.type})` })
      else if (field.type.includes('int') && !Number.isInteger(n)) problems.push({ path, reason: `must be an integer (${field.type})` })
      return n
    }
  }
}

function duration (json: unknown, path: string, problems: JsonProblem[]): unknown {
  const m = typeof json === 'string' ? DURATION.exec(json) : null
  if (m === null) { problems.push({ path, reason: `must be a duration such as "1s" or "0.250s", got ${JSON.stringify(json)}` }); return {} }
  const seconds = Number(m[2])
  if (seconds > MAX_DURATION_SECONDS) problems.push({ path, reason: 'duration out of range' })
  const nanos = m[3] !== undefined ? Number(m[3].padEnd(9, '0')) : 0
  const sign = m[1] === '-' ? -1 : 1
  return { seconds: sign * seconds, nanos: sign * nanos }
}

function anyValue (json: unknown, path: string, problems: JsonProblem[]): unknown {
  if (!isObject(json, path, problems)) return {}
  const url = json['@type']
  if (typeof url !== 'string') { problems.push({ path, reason: 'an Any needs "@type"' }); return {} }
  const name = url.slice(url.lastIndexOf('/') + 1)
  let type: protobuf.Type
  try { type = xdsRoot().lookupType(name) } catch { problems.push({ path: `${path}.@type`, reason: `no message ${name} in Envoy's protos` }); return {} }
  const { '@type': _, ...rest } = json
  const inner = convertMessage(type, rest, path, problems)
  if (problems.length > 0) return {}
  return { type_url: url, value: type.encode(type.fromObject(inner as Record<string, unknown>)).finish() }
}

function structValue (v: unknown): unknown {
  if (v === null) return { nullValue: 'NULL_VALUE' }
  if (typeof v === 'string') return { stringValue: v }
  if (typeof v === 'number') return { numberValue: v }
  if (typeof v === 'boolean') return { boolValue: v }
  if (Array.isArray(v)) return { listValue: { values: v.map(structValue) } }
  return { structValue: { fields: Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, structValue(x)])) } }
}

function isObject (v: unknown, path: string, problems: JsonProblem[]): v is Record<string, unknown> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return true
  problems.push({ path: path || '<document>', reason: 'must be an object' })
  return false
}

function camel (name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}
