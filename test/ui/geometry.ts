import type { Page } from 'playwright-core'

export interface Rect { what: string, x: number, y: number, w: number, h: number }

/**
 * The on-screen boxes of the topology's nodes, edge labels and namespace titles (getBoundingClientRect, so pan and
 * zoom are included), and the graph canvas they must stay inside.
 */
export interface GraphGeometry { canvas: Rect, viewport: { w: number, h: number }, boxes: Rect[], namespaces: Array<Rect & { members: string[] }> }

export async function graphBoxes (page: Page): Promise<GraphGeometry> {
  // A string, not a function: tsx would wrap a function's inner arrows in a `__name` helper the page lacks.
  return await page.evaluate(`(() => {
    const r = (what, el) => {
      const b = el.getBoundingClientRect()
      return { what, x: b.x, y: b.y, w: b.width, h: b.height }
    }
    const all = sel => [...document.querySelectorAll(sel)]
    const boxes = [
      ...all('[data-testid=topology] .node').map(el => r('node ' + el.getAttribute('data-node'), el.querySelector('.node-box') ?? el)),
      ...all('[data-testid=topology] .edge-tag').map(el => r('label ' + el.closest('.edge')?.getAttribute('data-edge'), el)),
      ...all('[data-testid=topology] .ns-title').map(el => r('namespace ' + el.closest('.ns-group')?.getAttribute('data-namespace'), el))
    ]
    const namespaces = all('[data-testid=topology] .ns-group').map(el => ({ ...r(el.getAttribute('data-namespace'), el.querySelector('.ns-box')), members: all('[data-testid=topology] .node').filter(n => n.getAttribute('data-ns') === el.getAttribute('data-namespace')).map(n => n.getAttribute('data-node')) }))
    return { namespaces, canvas: r('canvas', document.querySelector('[data-testid=graph-canvas]')), viewport: { w: innerWidth, h: innerHeight }, boxes }
  })()`)
}

/**
 * Every box inside the canvas and the window, no two boxes overlapping, no node inside another namespace's box: the
 * problems found, none when fine.
 */
export function layoutProblems (g: GraphGeometry): string[] {
  const out: string[] = []
  const eps = 0.5
  for (const b of g.boxes) {
    if (b.x < g.canvas.x - eps || b.y < g.canvas.y - eps || b.x + b.w > g.canvas.x + g.canvas.w + eps || b.y + b.h > g.canvas.y + g.canvas.h + eps) out.push(`${b.what} is cut off by the canvas`)
    if (b.x < -eps || b.y < -eps || b.x + b.w > g.viewport.w + eps || b.y + b.h > g.viewport.h + eps) out.push(`${b.what} is outside the window`)
  }
  for (let i = 0; i < g.boxes.length; i++) {
    for (let j = i + 1; j < g.boxes.length; j++) {
      const a = g.boxes[i]
      const b = g.boxes[j]
      if (a.x < b.x + b.w - eps && b.x < a.x + a.w - eps && a.y < b.y + b.h - eps && b.y < a.y + a.h - eps) out.push(`${a.what} overlaps ${b.what}`)
    }
  }
  // A node lies only inside its own namespace's box.
  for (const ns of g.namespaces) {
    for (const b of g.boxes) {
      if (!b.what.startsWith('node ') || ns.members.includes(b.what.slice(5))) continue
      if (b.x < ns.x + ns.w - eps && ns.x < b.x + b.w - eps && b.y < ns.y + ns.h - eps && ns.y < b.y + b.h - eps) out.push(`${b.what} is drawn inside namespace ${ns.what}`)
    }
  }
  return out
}
