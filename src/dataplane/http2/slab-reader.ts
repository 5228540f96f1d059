/**
 * Node's `onread` for an h2 connection: the kernel (or OpenSSL) reads into a 64 KiB slab at a moving offset,
 * and a slab is never read into twice, so views of what was read stay valid as long as someone holds them
 * (the DATA payloads the codec delivers). A new slab is taken when less than one read's worth is left.
 *
 *   slab: [ read 1 | read 2 | read 3 | … free ≥ 16 KiB ]  → next read goes after read 3, or into a new slab
 *
 * Memory: a view keeps its whole slab alive; at most 1/4 of a retired slab is unused space.
 *
 * @example
 * const r = new SlabReader(chunk => conn.push(chunk)); tls.connect({ …, onread: r.onread })
 */
const SLAB_SIZE = 64 * 1024
/** Room for one read: a TLS record's plaintext. */
const MIN_READ = 16 * 1024

export class SlabReader {
  readonly onread: { buffer: () => Buffer, callback: (n: number, buf: Buffer) => boolean }
  private slab: Buffer = Buffer.allocUnsafeSlow(SLAB_SIZE)
  private offset = 0

  constructor (private readonly onChunk: (chunk: Buffer) => void) {
    this.onread = { buffer: this.next.bind(this), callback: this.onRead.bind(this) }
  }

  private next (): Buffer {
    if (this.slab.length - this.offset < MIN_READ) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_SIZE)
      this.offset = 0
    }
    return this.slab.subarray(this.offset)
  }

  private onRead (n: number, buf: Buffer): boolean {
    const chunk = buf.subarray(0, n)
    this.offset += n
    this.onChunk(chunk)
    return true
  }
}
