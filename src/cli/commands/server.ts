import { parseArgs } from 'node:util'
import { ControlPlaneBackend } from '../../management/control-plane-backend.ts'
import { startManagementServer } from '../../management/server.ts'
import type { ScrapeTarget } from '../../management/metrics-collector.ts'
import { readFileSync } from 'node:fs'
import { PortInUseError } from '../../errors.ts'

export const usage = `Usage: meshwork server [options]

Runs the management plane: the HTTP API under /api/v1, live events (SSE), the OTLP/HTTP trace receiver
(POST /v1/traces) and the web UI, on one port. \`meshwork up\` starts it for you.

Options:
  --host <addr>            listen address (default 127.0.0.1)
  --port <n>               listen port (default 8088)
  --control-plane <url>    control plane URL (default $MESHWORK_CONTROL_PLANE or http://127.0.0.1:15010)
  --targets <file>         JSON file listing the proxies to scrape: [{ "url", "proxyId", "role", "service", "version" }]
                           (re-read on every scrape; \`meshwork up\` writes it)
  --data-dir <dir>         data directory (benchmark store) (default .meshwork)
  --ui-dir <dir>           built UI folder (default ui/dist of the installation)
  --prometheus <url>       a Prometheus scraping the proxies (e.g. http://127.0.0.1:9090): the UI's metric charts
                           query it with PromQL (default $MESHWORK_PROMETHEUS); without it they show the server's
                           own scrapes since it started
  --allowed-host <name>    also accept this name in the Host header (repeatable; 127.0.0.1, localhost
                           and [::1] always are); other names are refused (DNS rebinding)

Access: a random token is made at every start ($MESHWORK_UI_TOKEN sets it instead) and printed in the
UI URL (http://127.0.0.1:8088/?token=…). Opening that URL sets an HttpOnly SameSite=Strict session
cookie; scripts send \`Authorization: Bearer <token>\`. Requests from other origins, under other Host
names, or state-changing calls without a JSON body and the session's x-meshwork-csrf header are refused.
`

export async function run (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8088' },
      'control-plane': { type: 'string', default: process.env.MESHWORK_CONTROL_PLANE ?? 'http://127.0.0.1:15010' },
      targets: { type: 'string' },
      'data-dir': { type: 'string', default: process.env.MESHWORK_DATA_DIR ?? '.meshwork' },
      'ui-dir': { type: 'string' },
      prometheus: { type: 'string' },
      'allowed-host': { type: 'string', multiple: true }
    },
    strict: true
  })
  const targetsFile = values.targets
  const scrapeTargets = (): ScrapeTarget[] => {
    if (targetsFile === undefined) return []
    try { return JSON.parse(readFileSync(targetsFile, 'utf8')) as ScrapeTarget[] } catch { return [] }
  }
  const server = await startManagementServer({
    host: values.host,
    port: Number(values.port),
    backend: new ControlPlaneBackend(values['control-plane']!),
    scrapeTargets,
    dataDir: values['data-dir'],
    prometheusUrl: values.prometheus ?? process.env.MESHWORK_PROMETHEUS,
    token: process.env.MESHWORK_UI_TOKEN === undefined || process.env.MESHWORK_UI_TOKEN === '' ? undefined : process.env.MESHWORK_UI_TOKEN,
    allowedHosts: values['allowed-host'],
    uiDir: values['ui-dir'] ?? new URL('../../../ui/dist', import.meta.url).pathname
  }).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
    throw new PortInUseError(`management server port ${values.port} on ${values.host} is in use (EADDRINUSE); choose another with --port <port> (--port 0 = any free port)`, { cause: err })
  })
  process.stdout.write(`meshwork server: UI and API on ${server.url}\nmeshwork server: open ${server.openUrl} (the token logs the browser in; keep it private)\n`)
  await new Promise<void>(resolve => {
    const stop = (): void => { resolve() }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await server.close()
  return 0
}
