import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { redact, StreamingRedactor } from './redactor';

/** The specification, written naively: at each position replace the longest secret starting there. */
function oneShot(text: string, secrets: readonly string[], replacement = '***'): string {
  const candidates = secrets.filter((secret) => secret.length > 0).sort((a, b) => b.length - a.length);
  let out = '';
  for (let i = 0; i < text.length; ) {
    const secret = candidates.find((candidate) => text.startsWith(candidate, i));
    out += secret === undefined ? text[i] : replacement;
    i += secret?.length ?? 1;
  }
  return out;
}

/** Cuts `text` at the given positions (any order, duplicates allowed: empty writes happen too). */
function chunk(text: string, cuts: number[]): string[] {
  const points = [0, ...cuts.map((cut) => cut % (text.length + 1)).sort((a, b) => a - b), text.length];
  return points.slice(1).map((end, i) => text.slice(points[i], end));
}

/** Feeds the chunks one by one; returns every output, the last one from end(). */
function stream(redactor: StreamingRedactor, chunks: string[]): string[] {
  return [...chunks.map((piece) => redactor.write(piece)), redactor.end()];
}

// A two-letter alphabet makes secrets overlap, repeat and share prefixes with the text around them.
// No '*' in it: a secret made of the replacement's characters could be formed by the replacement.
const letters = fc.constantFrom('a', 'b');
const secretArb = fc.string({ unit: letters, minLength: 1, maxLength: 6 });
const textArb = (secrets: string[]) =>
  fc
    .array(fc.oneof(fc.string({ unit: fc.constantFrom('a', 'b', 'c', '\n'), maxLength: 5 }), fc.constantFrom(...secrets)), { maxLength: 12 })
    .map((parts) => parts.join(''));
const caseArb = fc
  .array(secretArb, { minLength: 1, maxLength: 3 })
  .chain((secrets) => fc.record({ secrets: fc.constant(secrets), text: textArb(secrets), cuts: fc.array(fc.nat(), { maxLength: 8 }) }));

describe('StreamingRedactor', () => {
  it('masks a secret in one write', () => {
    expect(redact('token=gtc_abcd end', ['gtc_abcd'])).toBe('token=*** end');
  });

  it('finds a secret split across writes, holding back only what could still start it', () => {
    const redactor = new StreamingRedactor(['gtc_abcd']);
    expect(redactor.write('token=gt')).toBe('token=');
    expect(redactor.write('c_a')).toBe('');
    expect(redactor.write('bcd and gtx')).toBe('*** and gtx');
    expect(redactor.write('gtc_ab')).toBe('');
    expect(redactor.end()).toBe('gtc_ab');
  });

  it('waits for the longer of two secrets sharing a prefix', () => {
    const redactor = new StreamingRedactor(['abc', 'abcdef'], '#');
    expect(redactor.write('xabc')).toBe('x');
    expect(redactor.write('def!')).toBe('#!');
    expect(redactor.write('abc')).toBe('');
    expect(redactor.write('d')).toBe('');
    expect(redactor.write('x')).toBe('#dx');
  });

  it('ignores empty secrets and passes text through when there are none', () => {
    expect(redact('abc', ['', 'b'])).toBe('a***c');
    const redactor = new StreamingRedactor(['']);
    expect(redactor.write('abc')).toBe('abc');
    expect(redactor.end()).toBe('');
  });

  it('uses the given replacement', () => {
    expect(redact('a secret here', ['secret'], '[masked]')).toBe('a [masked] here');
  });

  it('equals the one-shot replacement for any chunking', () => {
    fc.assert(
      fc.property(caseArb, ({ secrets, text, cuts }) => {
        const outputs = stream(new StreamingRedactor(secrets), chunk(text, cuts));
        expect(outputs.join('')).toBe(oneShot(text, secrets));
      }),
      { numRuns: 3000 },
    );
  });

  it('never emits a secret, in any single output', () => {
    fc.assert(
      fc.property(caseArb, ({ secrets, text, cuts }) => {
        for (const output of stream(new StreamingRedactor(secrets), chunk(text, cuts))) {
          for (const secret of secrets) expect(output).not.toContain(secret);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('emits at once text that cannot start a secret', () => {
    fc.assert(
      fc.property(fc.array(secretArb, { minLength: 1 }), fc.array(fc.string({ unit: fc.constantFrom('c', 'd', '\n') })), (secrets, pieces) => {
        const redactor = new StreamingRedactor(secrets);
        for (const piece of pieces) expect(redactor.write(piece)).toBe(piece);
        expect(redactor.end()).toBe('');
      }),
    );
  });
});
