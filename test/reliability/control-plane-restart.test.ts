import { test } from 'node:test'
import { scenarioSeconds } from './load.ts'
import { runControlPlaneRestart } from './scenarios/control-plane-restart.ts'

test('control plane SIGKILLed and restarted under load: zero failed requests, proxies reconnect and resync', async () => {
  await runControlPlaneRestart(scenarioSeconds(20))
})
