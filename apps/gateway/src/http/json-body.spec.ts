import { describe, expect, it } from '@jest/globals';
import { GantryError } from '#contracts';
import { parseJsonBody } from './json-body';

const refusal = (text: string) => {
  try {
    parseJsonBody(text);
  } catch (error) {
    return error instanceof GantryError ? { code: error.code, field: error.field, message: error.message } : error;
  }
  return null;
};

describe('parseJsonBody', () => {
  it('parses JSON, a plain "constructor" key included (it is data: an env variable, a parameter)', () => {
    expect(parseJsonBody('{"a":[1,{"b":"c"}],"constructor":"x","env":{"constructor":{"x":1}}}')).toEqual({ a: [1, { b: 'c' }], constructor: 'x', env: { constructor: { x: 1 } } });
  });

  it('refuses an empty body and text that is not JSON', () => {
    expect(refusal('')).toEqual({ code: 'invalid_request', field: undefined, message: 'request body is required' });
    expect(refusal('{"a":')).toEqual({ code: 'invalid_request', field: undefined, message: 'the body is not valid JSON' });
  });

  it('refuses __proto__ anywhere, escaped or not, naming where', () => {
    expect(refusal('{"__proto__":{"admin":true}}')).toMatchObject({ code: 'invalid_request', field: '__proto__' });
    expect(refusal('{"steps":[{"run":"x","__proto__":1}]}')).toMatchObject({ field: 'steps.0.__proto__' });
    expect(refusal('{"a":{"\\u005f\\u005fproto\\u005f\\u005f":{}}}')).toMatchObject({ field: 'a.__proto__' });
    expect(refusal('[{"__proto__":null}]')).toMatchObject({ field: '0.__proto__' });
  });

  it('refuses constructor.prototype', () => {
    expect(refusal('{"x":{"constructor":{"prototype":{"polluted":1}}}}')).toMatchObject({ code: 'invalid_request', field: 'x.constructor' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('walks deep nesting without recursion', () => {
    const depth = 50_000;
    expect(refusal(`${'{"a":'.repeat(depth)}{"__proto__":1}${'}'.repeat(depth)}`)).toMatchObject({ field: `${'a.'.repeat(depth)}__proto__` });
  });
});
