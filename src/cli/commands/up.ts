import { MeshError } from '../../errors.ts'

export const usage = 'Usage: meshwork up (not built yet)'

export function run (_argv: string[]): number {
  throw new MeshError('meshwork up is not built yet')
}
