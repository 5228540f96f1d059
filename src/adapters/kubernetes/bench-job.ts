import { SERVER_PORT } from './install.ts'
import { INJECT_ANNOTATION } from './sidecar.ts'

type Obj = Record<string, any>

export interface BenchJobOptions {
  name: string
  /** Namespace the Job runs in (usually the app's). */
  namespace: string
  image: string
  /** URL the load goes to, e.g. `http://productpage.bookinfo.svc:9080/productpage`. */
  target: string
  /** Extra `meshwork bench run` flags, e.g. `['-c', '16', '-r', '1000', '-d', '30s']`. */
  benchArgs?: string[]
  /** Namespace of the Meshwork install, whose management plane receives the result. */
  meshworkNamespace?: string
  /** Labels stored with the result (`--label k=v`). */
  labels?: Record<string, string>
}

/**
 * A Kubernetes Job that runs `meshwork bench run` against a URL inside the cluster and POSTs the JSON
 * result to the management plane (`/api/v1/benchmarks/import`). The load generator itself is never
 * injected: it measures the mesh from outside, like a client would.
 *
 * @example
 * renderBenchmarkJob({ name: 'bench-1', namespace: 'bookinfo', image, target: 'http://productpage:9080/' })
 */
export function renderBenchmarkJob (o: BenchJobOptions): Obj {
  const importUrl = `http://meshwork-server.${o.meshworkNamespace ?? 'meshwork'}.svc:${SERVER_PORT}/api/v1/benchmarks/import`
  const labels = Object.entries({ cluster: 'kubernetes', ...(o.labels ?? {}) }).flatMap(([k, v]) => ['--label', `${k}=${v}`])
  const bench = ['meshwork', 'bench', 'run', o.target, ...(o.benchArgs ?? []), ...labels, '--json', '--no-store'].map(shellQuote).join(' ')
  // The image has Node (meshwork runs on it): its fetch posts the result, no curl needed.
  const post = `node -e ${shellQuote(`fetch(process.argv[1],{method:'POST',headers:{'content-type':'application/json'},body:require('fs').readFileSync('/results/result.json')}).then(async r=>{console.log(r.status,await r.text());process.exit(r.ok?0:1)},e=>{console.error(e);process.exit(1)})`)} ${shellQuote(importUrl)}`
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: o.name, namespace: o.namespace, labels: { 'app.kubernetes.io/name': 'meshwork', 'app.kubernetes.io/component': 'benchmark' } },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': 'meshwork', 'app.kubernetes.io/component': 'benchmark' }, annotations: { [INJECT_ANNOTATION]: 'disabled' } },
        spec: {
          restartPolicy: 'Never',
          containers: [{
            name: 'bench',
            image: o.image,
            command: ['/bin/sh', '-c', `set -e; ${bench} > /results/result.json; ${post}`],
            resources: { requests: { cpu: '1', memory: '256Mi' } },
            volumeMounts: [{ name: 'results', mountPath: '/results' }]
          }],
          volumes: [{ name: 'results', emptyDir: {} }]
        }
      }
    }
  }
}

function shellQuote (s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}
