/**
 * Child-process entry for the benchmark app: `node [--import tsx] src/bench/app/main.ts <kind> <port> [bodySize]`.
 * Prints `listening <port>` on stdout once bound, serves until SIGTERM.
 */
import { startTrivialServer } from './trivial-server.ts'

const [kind = 'http', port = '0', bodySize = '100'] = process.argv.slice(2)
const server = await startTrivialServer({ kind: kind as 'http' | 'raw' | 'error', port: Number(port), bodySize: Number(bodySize) })
process.stdout.write(`listening ${server.port}\n`)
const stop = (): void => { server.close().then(() => process.exit(0), () => process.exit(1)) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
