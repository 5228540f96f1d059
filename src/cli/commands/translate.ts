import { MeshError } from '../../errors.ts'

export const usage = 'Usage: meshwork translate (not built yet)'

export function run (_argv: string[]): number {
  throw new MeshError('meshwork translate is not built yet')
}
