import { MeshError } from '../../errors.ts'

export const usage = 'Usage: meshwork proxy (not built yet)'

export function run (_argv: string[]): number {
  throw new MeshError('meshwork proxy is not built yet')
}
