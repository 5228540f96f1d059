import { MeshError } from '../../errors.ts'

export const usage = 'Usage: meshwork apply (not built yet)'

export function run (_argv: string[]): number {
  throw new MeshError('meshwork apply is not built yet')
}
