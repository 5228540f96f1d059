// `node --import <this file> …`: records every module the process loads into $MESHWORK_RECORD_IMPORTS, one
// URL or path a line: ESM through a resolve hook (module.register), CommonJS from require.cache at exit,
// builtins (also those loaded with process.getBuiltinModule) from process.moduleLoadList at exit, as `node:<id>`.
// Used by proxy-imports.test.ts to prove what the proxy process does not load.
import { appendFileSync } from 'node:fs'
import { createRequire, register } from 'node:module'

const out = process.env.MESHWORK_RECORD_IMPORTS
if (out) {
  register('./hooks.mjs', import.meta.url, { data: { out } })
  const require = createRequire(import.meta.url)
  process.on('exit', () => {
    const builtins = process.moduleLoadList.filter(m => m.startsWith('NativeModule ')).map(m => `node:${m.slice(13)}`)
    appendFileSync(out, `${[...Object.keys(require.cache), ...builtins].join('\n')}\n`)
  })
}
