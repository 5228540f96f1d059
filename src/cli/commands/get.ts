import { MeshError } from '../../errors.ts'

export const usage = 'Usage: meshwork get (not built yet)'

export function run (_argv: string[]): number {
  throw new MeshError('meshwork get is not built yet')
}
