import { test } from 'node:test'
import { scenarioSeconds } from './load.ts'
import { runCertRotation } from './scenarios/cert-rotation.ts'

test('4 s certificates rotating and a root rotation under load: zero failures; expired and foreign certificates refused', async () => {
  await runCertRotation(scenarioSeconds(20))
})
