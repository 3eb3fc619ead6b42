import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { CommonConfigSchema, ConfigError, DatabaseConfigSchema, loadConfig } from './load-config';

const Schema = CommonConfigSchema.extend(DatabaseConfigSchema.shape).extend({
  GANTRY_PORT: z.coerce.number().int().min(1).max(65535).default(8080),
});

describe('loadConfig', () => {
  it('applies defaults and coerces numbers', () => {
    const config = loadConfig(Schema, { GANTRY_DATABASE_URL: 'postgres://x@y/z', GANTRY_PORT: '9090' });
    expect(config.GANTRY_PORT).toBe(9090);
    expect(config.GANTRY_NATS_URL).toBe('nats://127.0.0.1:4222');
  });

  it('lists every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig(Schema, { GANTRY_NATS_URL: 'http://nope', GANTRY_PORT: 'abc' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('GANTRY_NATS_URL');
    expect(problems).toContain('GANTRY_PORT');
    expect(problems).toContain('GANTRY_DATABASE_URL');
  });

  it('treats empty strings as unset', () => {
    const config = loadConfig(Schema, { GANTRY_DATABASE_URL: 'postgres://x@y/z', GANTRY_LOG_LEVEL: '' });
    expect(config.GANTRY_LOG_LEVEL).toBe('info');
  });
});
