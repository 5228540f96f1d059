import { test } from 'node:test'
import { scenarioSeconds } from './load.ts'
import { runCertRotation } from './scenarios/cert-rotation.ts'

// 10 s certificates in CI: renewal comes at ~5 s, a margin that multi-second stalls of a loaded 2-core
// machine cannot eat (with 4 s certificates they did: see README.md). bench/reliability-long.ts uses 4 s.
test('10 s certificates rotating and a root rotation under load: zero failures; expired and foreign certificates refused', async () => {
  await runCertRotation(scenarioSeconds(20), 10)
})
