import type { INestApplicationContext } from '@nestjs/common';
import pino from 'pino';
import { exitOnSignals } from './shutdown';

describe('exitOnSignals', () => {
  const logger = pino({ level: 'silent' });
  let handlers: ((signal: NodeJS.Signals) => void)[] = [];

  const install = (close: () => Promise<void>, timeoutMs = 50) => {
    const exits: number[] = [];
    const onSignal = exitOnSignals({ close } as unknown as INestApplicationContext, logger, { timeoutMs, exit: (code) => void exits.push(code) });
    handlers.push(onSignal);
    return { exits, onSignal };
  };
  const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  afterEach(() => {
    for (const handler of handlers) {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
    }
    handlers = [];
  });

  it('exits 0 once the shutdown hooks are done', async () => {
    const { exits, onSignal } = install(async () => undefined);
    onSignal('SIGTERM');
    await settle(100); // past the deadline too: it was cleared
    expect(exits).toEqual([0]);
  });

  it('exits 1 at the deadline when a hook never finishes', async () => {
    const { exits, onSignal } = install(() => new Promise(() => undefined));
    onSignal('SIGTERM');
    await settle(10);
    expect(exits).toEqual([]);
    await settle(80);
    expect(exits).toEqual([1]);
  });

  it('exits 1 when a hook fails, and at once on a second signal', async () => {
    const failing = install(() => Promise.reject(new Error('pool already closed')));
    failing.onSignal('SIGTERM');
    await settle(10);
    expect(failing.exits).toEqual([1]);

    const stuck = install(() => new Promise(() => undefined));
    stuck.onSignal('SIGTERM');
    stuck.onSignal('SIGINT');
    expect(stuck.exits).toEqual([1]);
    await settle(80); // let its deadline pass, so no timer outlives the test
  });
});
