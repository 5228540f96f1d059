import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { BenchOptionInvalidError, BenchResultNotFoundError } from '../errors.ts'
import type { PerformanceTestResult } from './smp.ts'

/** Data directory: the flag, else `$MESHWORK_DATA_DIR`, else `.meshwork/` under the working directory. */
export function resolveDataDir (flag?: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? env.MESHWORK_DATA_DIR ?? '.meshwork')
}

/** One line of `bench list`. */
export interface ResultRow {
  id: string
  createdAt: string
  name: string
  scenario: string
  group: string | null
  mesh: string
  actualQps: number
  p50: number
  p99: number
  source: string
}

/** A suite, sweep or search: its kind, the ids of its results and the computed summary table. */
export interface GroupRecord {
  id: string
  kind: 'suite' | 'sweep' | 'search'
  createdAt: string
  name: string
  summary: unknown
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS results (
  id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  name TEXT NOT NULL,
  scenario TEXT NOT NULL,
  group_id TEXT,
  mesh TEXT NOT NULL,
  actual_qps REAL NOT NULL,
  p50 REAL NOT NULL,
  p99 REAL NOT NULL,
  source TEXT NOT NULL,
  smp TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS results_group ON results(group_id);
CREATE TABLE IF NOT EXISTS groups (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  created_at TEXT NOT NULL,
  name TEXT NOT NULL,
  summary TEXT NOT NULL
);
`

/**
 * Benchmark results in SQLite (`<data-dir>/bench.db`), one row per SMP result, full JSON kept.
 * @example const store = BenchStore.open(resolveDataDir()); store.save(smp); store.close()
 */
export class BenchStore {
  private readonly db: Database.Database

  private constructor (db: Database.Database) {
    this.db = db
  }

  static open (dataDir: string): BenchStore {
    mkdirSync(dataDir, { recursive: true })
    const db = new Database(join(dataDir, 'bench.db'))
    db.pragma('journal_mode = WAL')
    db.pragma('busy_timeout = 5000')
    db.exec(SCHEMA)
    return new BenchStore(db)
  }

  save (r: PerformanceTestResult): void {
    this.db.prepare(`INSERT OR REPLACE INTO results (id, created_at, name, scenario, group_id, mesh, actual_qps, p50, p99, source, smp)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      r.id, r.end_time || new Date().toISOString(), r.config.name, r.meshwork.scenario, r.meshwork.group ?? null,
      r.mesh_config.type, r.actual_qps, r.latencies.p50, r.latencies.p99, r.meshwork.source ?? 'meshwork', JSON.stringify(r))
  }

  saveGroup (g: GroupRecord): void {
    this.db.prepare('INSERT OR REPLACE INTO groups (id, kind, created_at, name, summary) VALUES (?, ?, ?, ?, ?)')
      .run(g.id, g.kind, g.createdAt, g.name, JSON.stringify(g.summary))
  }

  list (opts: { limit?: number, group?: string } = {}): ResultRow[] {
    const rows = (opts.group === undefined
      ? this.db.prepare('SELECT * FROM results ORDER BY created_at DESC, rowid DESC LIMIT ?').all(opts.limit ?? 50)
      : this.db.prepare('SELECT * FROM results WHERE group_id = ? ORDER BY rowid ASC').all(opts.group)) as Array<Record<string, unknown>>
    return rows.map(toRow)
  }

  listGroups (limit = 20): GroupRecord[] {
    const rows = this.db.prepare('SELECT * FROM groups ORDER BY created_at DESC LIMIT ?').all(limit) as Array<Record<string, string>>
    return rows.map(r => ({ id: r.id, kind: r.kind as GroupRecord['kind'], createdAt: r.created_at, name: r.name, summary: JSON.parse(r.summary) }))
  }

  /** A result by id or unique id prefix (at least 4 characters); throws MESH_ERR_BENCH_RESULT_NOT_FOUND. */
  get (idOrPrefix: string): PerformanceTestResult {
    return JSON.parse(this.lookup('results', 'smp', idOrPrefix)) as PerformanceTestResult
  }

  getGroup (idOrPrefix: string): GroupRecord {
    const row = this.db.prepare('SELECT * FROM groups WHERE id = ?').get(this.resolveId('groups', idOrPrefix)) as Record<string, string>
    return { id: row.id, kind: row.kind as GroupRecord['kind'], createdAt: row.created_at, name: row.name, summary: JSON.parse(row.summary) }
  }

  /** True when the id (or prefix) names a group rather than a single result. */
  isGroup (idOrPrefix: string): boolean {
    try { this.resolveId('groups', idOrPrefix); return true } catch { return false }
  }

  close (): void {
    this.db.close()
  }

  private lookup (table: 'results', column: string, idOrPrefix: string): string {
    const id = this.resolveId(table, idOrPrefix)
    const row = this.db.prepare(`SELECT ${column} AS v FROM ${table} WHERE id = ?`).get(id) as { v: string }
    return row.v
  }

  private resolveId (table: 'results' | 'groups', idOrPrefix: string): string {
    if (idOrPrefix.length < 4) throw new BenchOptionInvalidError(`id "${idOrPrefix}": give at least 4 characters`)
    const rows = this.db.prepare(`SELECT id FROM ${table} WHERE id LIKE ? ESCAPE '\\' LIMIT 2`).all(idOrPrefix.replace(/[%_\\]/g, c => `\\${c}`) + '%') as Array<{ id: string }>
    if (rows.length === 0) throw new BenchResultNotFoundError(`no stored benchmark ${table === 'groups' ? 'group' : 'result'} with id "${idOrPrefix}"`)
    if (rows.length > 1) throw new BenchOptionInvalidError(`id prefix "${idOrPrefix}" is ambiguous`)
    return rows[0].id
  }
}

function toRow (r: Record<string, unknown>): ResultRow {
  return {
    id: r.id as string,
    createdAt: r.created_at as string,
    name: r.name as string,
    scenario: r.scenario as string,
    group: (r.group_id as string | null) ?? null,
    mesh: r.mesh as string,
    actualQps: r.actual_qps as number,
    p50: r.p50 as number,
    p99: r.p99 as number,
    source: r.source as string
  }
}
