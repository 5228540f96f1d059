import { MeshError } from '../../errors.ts'

export const usage = 'Usage: meshwork control (not built yet)'

export function run (_argv: string[]): number {
  throw new MeshError('meshwork control is not built yet')
}
