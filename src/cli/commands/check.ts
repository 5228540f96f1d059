import { MeshError } from '../../errors.ts'

export const usage = 'Usage: meshwork check (not built yet)'

export function run (_argv: string[]): number {
  throw new MeshError('meshwork check is not built yet')
}
