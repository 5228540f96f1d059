import { MeshError } from '../../errors.ts'

export const usage = 'Usage: meshwork bench (not built yet)'

export function run (_argv: string[]): number {
  throw new MeshError('meshwork bench is not built yet')
}
