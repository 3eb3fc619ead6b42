import { StreamingRedactor } from './redactor';

/** Lines longer than this are cut into pieces: one runaway line must not become one huge log row. */
export const DEFAULT_MAX_LINE_CHARS = 16384;

export interface LineSplitterOptions {
  /** Masked as `***` before the text is cut into lines, so a secret split by a cut is still found. */
  secrets?: readonly string[];
  /** At most this many UTF-16 code units per emitted line (at least 2). */
  maxLineChars?: number;
}

/**
 * Turns a byte stream (a step's stdout or stderr) into masked, storable lines.
 *
 * UTF-8 is decoded as a stream: a character split across chunks is kept whole and invalid bytes
 * become U+FFFD. Lines end at `\n` (a `\r` right before it is dropped); NUL becomes U+FFFD because
 * PostgreSQL text cannot hold it; a line longer than `maxLineChars` is emitted in several pieces,
 * never splitting a surrogate pair.
 */
export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  private readonly redactor: StreamingRedactor;
  private readonly maxLineChars: number;
  /** The current line's text so far (no `\n` in it). */
  private partial = '';
  private ended = false;

  constructor(
    private readonly onLine: (line: string) => void,
    options: LineSplitterOptions = {},
  ) {
    this.redactor = new StreamingRedactor(options.secrets ?? []);
    this.maxLineChars = Math.max(2, options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS);
  }

  /** Takes the next chunk of bytes; emits every line it completes. */
  write(chunk: Uint8Array): void {
    if (this.ended) throw new Error('LineSplitter: write after end');
    this.push(this.redactor.write(this.decoder.decode(chunk, { stream: true })));
  }

  /** The stream is over: emits the last line if it has no `\n`. Later calls do nothing. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.push(this.redactor.write(this.decoder.decode()) + this.redactor.end());
    if (this.partial.length > 0) this.emit(this.partial);
    this.partial = '';
  }

  private push(text: string): void {
    const segments = text.split('\n');
    const last = segments.pop() ?? '';
    for (const segment of segments) {
      const line = this.partial + segment;
      this.partial = '';
      this.emit(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    this.partial += last;
    this.flushLongPartial();
  }

  /**
   * Emits full-size pieces of an unterminated line as soon as they are known, keeping a
   * non-empty rest (other than a lone `\r` that a `\n` may still remove) so no empty line follows.
   */
  private flushLongPartial(): void {
    for (;;) {
      const significant = this.partial.endsWith('\r') ? this.partial.length - 1 : this.partial.length;
      if (significant <= this.maxLineChars) return;
      const cut = this.cutAt(this.partial);
      this.onLine(clean(this.partial.slice(0, cut)));
      this.partial = this.partial.slice(cut);
    }
  }

  /** Emits a whole line, in pieces if it is too long; an empty line is emitted as one. */
  private emit(line: string): void {
    let rest = line;
    while (rest.length > this.maxLineChars) {
      const cut = this.cutAt(rest);
      this.onLine(clean(rest.slice(0, cut)));
      rest = rest.slice(cut);
    }
    this.onLine(clean(rest));
  }

  /** Where to cut a too-long text: at the limit, or one before it not to split a surrogate pair. */
  private cutAt(text: string): number {
    const code = text.charCodeAt(this.maxLineChars - 1);
    return code >= 0xd800 && code <= 0xdbff ? this.maxLineChars - 1 : this.maxLineChars;
  }
}

function clean(line: string): string {
  return line.replaceAll('\u0000', '\uFFFD');
}
