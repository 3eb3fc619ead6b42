import type { INestApplicationContext } from '@nestjs/common';
import type { Logger } from 'pino';

export interface ShutdownOptions {
  /** How long the shutdown hooks may take before the process exits anyway (with code 1). */
  timeoutMs: number;
  /** process.exit, replaceable in tests. */
  exit?: (code: number) => void;
}

/**
 * Graceful shutdown on SIGTERM/SIGINT: Nest's shutdown hooks run (relay flush, NATS drain, pool
 * close), then the process exits 0. A second signal exits at once, and so does a shutdown that
 * outlives its deadline (a hook waiting on a dead peer): exit 1, saying so, before an
 * orchestrator's SIGKILL would end it silently.
 */
export function exitOnSignals(app: INestApplicationContext, logger: Logger, options: ShutdownOptions): (signal: NodeJS.Signals) => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return exit(1);
    closing = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs: options.timeoutMs }, 'shutdown timed out: exiting without finishing the shutdown hooks');
      exit(1);
    }, options.timeoutMs); // not unref'd: a hook stuck on no handle at all must not end in a silent exit 0
    app.close().then(
      () => {
        clearTimeout(deadline);
        logger.info('stopped');
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        logger.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return onSignal;
}
