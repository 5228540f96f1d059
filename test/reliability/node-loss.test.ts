import { test } from 'node:test'
import { podNetworkUnsupportedReason } from '../../src/runtime/netns/capability.ts'
import { scenarioSeconds } from './load.ts'
import { runNodeLoss } from './scenarios/node-loss.ts'

const unsupported = podNetworkUnsupportedReason()

test('one of two nodes loses every process under load (--network pods --nodes 2): retries + outlier detection keep client errors ≤ 0.1 %', { skip: unsupported === null ? false : `needs pod networking: ${unsupported}` }, async () => {
  await runNodeLoss(scenarioSeconds(20))
})
