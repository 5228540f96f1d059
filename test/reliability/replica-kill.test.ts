import { test } from 'node:test'
import { scenarioSeconds } from './load.ts'
import { runReplicaKill } from './scenarios/replica-kill.ts'

test('an app and a sidecar of 3 replicas killed under load: outlier detection + retries keep client errors ≤ 0.1 %', async () => {
  await runReplicaKill(scenarioSeconds(20))
})
