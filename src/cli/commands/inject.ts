import { MeshError } from '../../errors.ts'

export const usage = 'Usage: meshwork inject (not built yet)'

export function run (_argv: string[]): number {
  throw new MeshError('meshwork inject is not built yet')
}
