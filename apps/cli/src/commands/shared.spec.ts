import { describe, expect, it } from '@jest/globals';
import { CliError } from '../errors';
import { resolveParams } from '../local-exec';
import { listOption, paramOption, parseExpiry, pickByIdOrName } from './shared';

const exitOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as CliError).exitCode;
  }
  return null;
};

describe('option parsing', () => {
  it('expiry: days, weeks, years, never; anything else is a usage error', () => {
    expect([parseExpiry('90d'), parseExpiry('30'), parseExpiry('2w'), parseExpiry('1y'), parseExpiry('never')]).toEqual([90, 30, 14, 365, null]);
    expect(exitOf(() => parseExpiry('soon'))).toBe(2);
  });

  it('lists and parameters', () => {
    expect(listOption('a, b', ['x'])).toEqual(['x', 'a', 'b']);
    expect(paramOption('k=v=w', { a: '1' })).toEqual({ a: '1', k: 'v=w' });
    expect(exitOf(() => paramOption('=v'))).toBe(2);
  });

  it('by id or name: ambiguous names are usage errors, unknown ones not found', () => {
    const items = [{ id: '1', name: 'a' }, { id: '2', name: 'b' }, { id: '3', name: 'b' }];
    expect(pickByIdOrName(items, '3', 'token')).toBe(items[2]);
    expect(pickByIdOrName(items, 'a', 'token')).toBe(items[0]);
    expect(exitOf(() => pickByIdOrName(items, 'b', 'token'))).toBe(2);
    expect(exitOf(() => pickByIdOrName(items, 'z', 'token'))).toBe(4);
  });
});

describe('runs exec --local parameters (the server\'s rules)', () => {
  const spec = { params: [{ name: 'target', required: true }, { name: 'mode', default: 'fast' }, { name: 'note' }] };
  it('fills defaults, leaves out unset optional ones, refuses unknown and missing ones', () => {
    expect(resolveParams(spec, { target: 'x' })).toEqual({ target: 'x', mode: 'fast' });
    expect(exitOf(() => resolveParams(spec, { target: 'x', nope: '1' }))).toBe(2);
    expect(exitOf(() => resolveParams(spec, {}))).toBe(2);
  });
});
