import { describe, expect, it } from '@jest/globals';
import { isDatabaseUnavailable } from './database';

describe('isDatabaseUnavailable (503, not 500)', () => {
  it('recognises a database that is not there: refused, reset, shutting down, starting, full, connection lost', () => {
    const errors = [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      Object.assign(new Error('sorry, too many clients already'), { code: '53300' }),
      Object.assign(new Error('connection failure'), { code: '08006' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Client has encountered a connection error and is not queryable'),
    ];
    for (const error of errors) expect([error.message, isDatabaseUnavailable(error)]).toEqual([error.message, true]);
  });

  it('leaves query errors and bugs alone', () => {
    const errors = [
      Object.assign(new Error('duplicate key value'), { code: '23505' }),
      Object.assign(new Error('syntax error'), { code: '42601' }),
      Object.assign(new Error('permission denied'), { code: '42501' }),
      new TypeError("Cannot read properties of undefined (reading 'id')"),
      undefined,
      'Connection terminated',
    ];
    for (const error of errors) expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
