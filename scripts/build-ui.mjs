#!/usr/bin/env node
// Builds the web UI (ui/src, React + TypeScript) into static files in ui/dist with esbuild.
// The UI imports the same zod schemas as the CLI (src/config) for inline validation; the file loader's
// `node:fs/promises` is replaced by a stub in the browser bundle.
import { build } from 'esbuild'
import { copyFileSync, mkdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'ui', 'dist')
rmSync(join(out, 'chunks'), { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const nodeStub = {
  name: 'node-stub',
  setup (b) {
    b.onResolve({ filter: /^node:/ }, args => ({ path: args.path, namespace: 'node-stub' }))
    // Every name src/config imports from node: builtins (the file loader, Gateway certificate files), each throwing:
    // the browser only validates text, it never reads files.
    const names = ['readFile', 'readFileSync', 'createPrivateKey', 'X509Certificate', 'dirname', 'isAbsolute', 'resolve']
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({
      contents: `${names.map(n => `export function ${n} () { throw new Error("not available in the browser") }`).join('\n')}\nexport default {}`,
      loader: 'js'
    }))
  }
}
await build({
  entryPoints: [join(root, 'ui', 'src', 'main.tsx')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: process.env.UI_DEV !== '1',
  sourcemap: true,
  jsx: 'automatic',
  // The entry is app.js; code loaded on demand (the Config page's CodeMirror editor) goes to chunks/.
  outdir: out,
  splitting: true,
  entryNames: 'app',
  chunkNames: 'chunks/[name]-[hash]',
  define: { 'process.env.NODE_ENV': '"production"' },
  plugins: [nodeStub],
  logLevel: 'warning'
})
copyFileSync(join(root, 'ui', 'index.html'), join(out, 'index.html'))
copyFileSync(join(root, 'ui', 'styles.css'), join(out, 'styles.css'))
console.log('ui: built ui/dist')
