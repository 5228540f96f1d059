import { MeshError } from '../../errors.ts'

export const usage = 'Usage: meshwork install (not built yet)'

export function run (_argv: string[]): number {
  throw new MeshError('meshwork install is not built yet')
}
