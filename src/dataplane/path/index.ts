export { needsNormalization, normalizeTarget, PATH_NORMALIZATIONS, type PathNormalization, type PathRejection, removeDotSegments } from './normalize.ts'
