/**
 * The upstream Gateway API conformance cases as `scripts/extract-conformance.ts` wrote them
 * (conformance/upstream/cases.json): each test's name, features, manifests and literal ExpectedResponses.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** conformance/ of this repository (the upstream data, the echo backend, the committed report). */
export const CONFORMANCE_DIR = fileURLToPath(new URL('../../conformance/', import.meta.url))

export interface UpstreamRequest { Host?: string, Method?: string, Path?: string, Headers?: Record<string, string>, UnfollowRedirect?: boolean, Protocol?: string }
export interface ExpectedResponse {
  Request: UpstreamRequest
  ExpectedRequest?: { Request?: UpstreamRequest, AbsentHeaders?: string[] }
  RedirectRequest?: { Scheme?: string, Host?: string, Port?: string, Path?: string }
  BackendSetResponseHeaders?: Record<string, string>
  Response?: { StatusCode?: number, Headers?: Record<string, string>, AbsentHeaders?: string[] }
  Backend?: string
  Namespace?: string
  MirroredTo?: { BackendRef: { Name: string, Namespace?: string }, Percent?: number }[]
  TestCaseName?: string
}

export interface UpstreamTest {
  shortName: string
  description: string
  file: string
  features: string[]
  manifests: string[]
  names: Record<string, { Name?: string, Namespace?: string }>
  expectedResponses: { binding: string | null, line: number, value: ExpectedResponse }[]
  assertions: { call: string, line: number, args: unknown[] }[]
}

export interface UpstreamCases { source: string, ref: string, commit: string, tests: UpstreamTest[] }

export function loadUpstreamCases (dir = CONFORMANCE_DIR): UpstreamCases {
  return JSON.parse(readFileSync(join(dir, 'upstream', 'cases.json'), 'utf8')) as UpstreamCases
}

export function readUpstreamManifest (path: string, dir = CONFORMANCE_DIR): string {
  return readFileSync(join(dir, 'upstream', path), 'utf8')
}
