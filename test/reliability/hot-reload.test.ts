import { test } from 'node:test'
import { scenarioSeconds } from './load.ts'
import { runHotReload } from './scenarios/hot-reload.ts'

// CI runs a shorter variant (RELIABILITY_SECONDS, default 20); bench/reliability-reload.ts runs 60 s.
test('hot config reload every 100 ms under load through a sidecar pair: zero failed requests', async () => {
  await runHotReload(scenarioSeconds(20))
})
