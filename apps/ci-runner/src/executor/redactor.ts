/**
 * Masks secrets in text that arrives in pieces (a step's output), the way buildkite/agent's
 * `internal/replacer` does: a secret split across two or more writes is still found, and only the
 * shortest tail that could still start a secret is held back, so output is not delayed otherwise.
 *
 * The result is exactly the one-shot replacement of the whole text: scanning left to right, at each
 * position the longest secret starting there is replaced and the scan resumes after it.
 */
export class StreamingRedactor {
  /** Distinct, non-empty, longest first: at a position, the first match found is the longest. */
  private readonly secrets: readonly string[];
  private readonly longest: number;
  /** Text received but not yet decided: it could still be the start of a secret. */
  private held = '';

  constructor(secrets: readonly string[], private readonly replacement = '***') {
    this.secrets = [...new Set(secrets.filter((secret) => secret.length > 0))].sort((a, b) => b.length - a.length);
    this.longest = this.secrets[0]?.length ?? 0;
  }

  /** Takes the next piece of text; returns what is safe to emit now (possibly ''). */
  write(chunk: string): string {
    if (this.longest === 0) return chunk;
    return this.scan(this.held + chunk, false);
  }

  /** No more text: returns everything still held, masked. */
  end(): string {
    if (this.longest === 0) return '';
    return this.scan(this.held, true);
  }

  /** Replaces the matches in `text` up to the first undecided position, and holds the rest. */
  private scan(text: string, final: boolean): string {
    const undecided = final ? [] : this.undecidedPositions(text);
    const nextIndex = this.secrets.map(() => Number.NEGATIVE_INFINITY);
    let out = '';
    let from = 0;
    for (;;) {
      // Positions are undecided intrinsically, so the first one at or after `from` bounds the scan.
      const stop = undecided.find((position) => position >= from) ?? text.length;
      const match = this.nextMatch(text, from, nextIndex);
      if (match === null || match.index >= stop) {
        this.held = text.slice(stop);
        return out + text.slice(from, stop);
      }
      out += text.slice(from, match.index) + this.replacement;
      from = match.index + match.length;
    }
  }

  /**
   * Positions whose remaining text is a proper prefix of a secret: whether (and which) secret
   * matches there depends on text not received yet. Only the last `longest - 1` can be.
   */
  private undecidedPositions(text: string): number[] {
    const positions: number[] = [];
    for (let position = Math.max(0, text.length - this.longest + 1); position < text.length; position++) {
      const rest = text.slice(position);
      if (this.secrets.some((secret) => secret.length > rest.length && secret.startsWith(rest))) positions.push(position);
    }
    return positions;
  }

  /**
   * The leftmost complete match at or after `from` (the longest one at that position).
   * `nextIndex` caches each secret's next occurrence so that a long text is not searched again
   * for every match.
   */
  private nextMatch(text: string, from: number, nextIndex: number[]): { index: number; length: number } | null {
    let best: { index: number; length: number } | null = null;
    for (let k = 0; k < this.secrets.length; k++) {
      if (nextIndex[k] !== -1 && nextIndex[k] < from) nextIndex[k] = text.indexOf(this.secrets[k], from);
      const index = nextIndex[k];
      // Strictly less: on a tie the earlier (longer) secret wins.
      if (index !== -1 && (best === null || index < best.index)) best = { index, length: this.secrets[k].length };
    }
    return best;
  }
}

/** Masks `secrets` in a whole text at once (for lines the executor writes itself). */
export function redact(text: string, secrets: readonly string[], replacement = '***'): string {
  const redactor = new StreamingRedactor(secrets, replacement);
  return redactor.write(text) + redactor.end();
}
