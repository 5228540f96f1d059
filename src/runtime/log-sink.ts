import { createWriteStream, mkdirSync, openSync, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'

/**
 * Where the output of one supervised process goes: every line to `<dir>/<name>.log` and, when an echo
 * stream is given, to it with a `[name]` prefix (the terminal of `meshwork up`).
 *
 * @example
 * const sink = new LogSink('reviews-v2-0', '.meshwork/logs', process.stdout)
 * sink.attach(child.stdout)
 */
export class LogSink {
  readonly name: string
  readonly path: string
  readonly #file: WriteStream
  readonly #echo: NodeJS.WritableStream | null
  readonly #prefix: string

  constructor (name: string, dir: string, echo: NodeJS.WritableStream | null = null) {
    mkdirSync(dir, { recursive: true })
    this.name = name
    this.path = join(dir, `${name}.log`)
    // Opened synchronously so the file exists as soon as the process is named.
    this.#file = createWriteStream('', { fd: openSync(this.path, 'a') })
    this.#echo = echo
    this.#prefix = `[${name}] `
  }

  /** Copy a child's stdout or stderr, line by line. */
  attach (stream: Readable): void {
    let rest = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      const text = rest + chunk
      const lines = text.split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) this.line(line)
    })
    stream.on('end', () => {
      if (rest !== '') this.line(rest)
      rest = ''
    })
  }

  /** Write one line (the supervisor's own notes about the process go here too). */
  line (text: string): void {
    this.#file.write(text + '\n')
    this.#echo?.write(this.#prefix + text + '\n')
  }

  close (): Promise<void> {
    return new Promise(resolve => this.#file.end(resolve))
  }
}
