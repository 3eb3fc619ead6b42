import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../config/load-config';
import { natsAuth } from './nats-connection';

describe('natsAuth (a service\'s NATS credentials from its config)', () => {
  it('connects as the configured user, with replies on that user\'s own inbox prefix', () => {
    expect(natsAuth({ GANTRY_NATS_USER: 'ci-runner', GANTRY_NATS_PASSWORD: 's3cret' })).toEqual({ user: 'ci-runner', pass: 's3cret', inboxPrefix: '_INBOX.ci-runner' });
  });

  it('connects anonymously without either (a server without authorization)', () => {
    expect(natsAuth({})).toEqual({});
  });

  it('refuses one without the other, naming the missing variable and never the password', () => {
    expect(() => natsAuth({ GANTRY_NATS_USER: 'gateway' })).toThrow(ConfigError);
    expect(() => natsAuth({ GANTRY_NATS_USER: 'gateway' })).toThrow(/GANTRY_NATS_PASSWORD: required/);
    let message = '';
    try {
      natsAuth({ GANTRY_NATS_PASSWORD: 'hunter2-hunter2' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/GANTRY_NATS_USER: required/);
    expect(message).not.toContain('hunter2');
  });
});
