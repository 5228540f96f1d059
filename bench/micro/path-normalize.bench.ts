// Micro-benchmark: request path normalization (src/dataplane/path/), run on every request before routing.
// The fast check must keep plain paths near free; only paths with '%', '//', '/.', '\' or '#' pay more.
// Run: flock /tmp/meshwork-bench.lock node --import tsx bench/micro/path-normalize.bench.ts
import { bench, do_not_optimize, run, summary } from 'mitata'
import { normalizeTarget } from '../../src/dataplane/path/normalize.ts'

const plain = '/api/v1/products/0?session=abc&x=1'
const dotted = '/public/./a/../reviews//0?x=1'
const encoded = '/%70ublic/%2e%2e/reviews%2F0?x=1'

summary(() => {
  bench('path: plain (fast check only)', () => do_not_optimize(normalizeTarget(plain, 'DECODE_AND_MERGE_SLASHES')))
  bench('path: dot segments + double slash', () => do_not_optimize(normalizeTarget(dotted, 'DECODE_AND_MERGE_SLASHES')))
  bench('path: percent-encoded', () => do_not_optimize(normalizeTarget(encoded, 'DECODE_AND_MERGE_SLASHES')))
})
await run()
