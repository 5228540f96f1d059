import { MeshError } from '../../errors.ts'

export const usage = 'Usage: meshwork server (not built yet)'

export function run (_argv: string[]): number {
  throw new MeshError('meshwork server is not built yet')
}
