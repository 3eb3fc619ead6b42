import { ErrorEnvelopeSchema } from '#contracts';

/** The documented exit codes (README, "Command line: gantry"). `runs start --watch` exits with the run's own code. */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
} as const;

/** An error the CLI reports as one line on stderr, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);

/** Which exit code an HTTP status stands for. */
export function exitCodeOfStatus(status: number): number {
  if (status === 401) return EXIT.auth;
  if (status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 400) return EXIT.usage;
  return EXIT.error;
}

/**
 * The gateway's error envelope as one line: `forbidden: missing scope users:admin (field labels)
 * [request 0192…]`. A body that is not the envelope (a proxy's HTML page) is summarised by status.
 */
export function errorFromResponse(status: number, body: unknown): CliError {
  const parsed = ErrorEnvelopeSchema.safeParse(body);
  if (!parsed.success) return new CliError(`the server answered HTTP ${status}`, exitCodeOfStatus(status));
  const { code, message, field, requestId } = parsed.data.error;
  const where = field ? ` (field ${field})` : '';
  return new CliError(`${code}: ${message}${where} [request ${requestId}]`, exitCodeOfStatus(status));
}

/** An error's message; errors may come from another realm, so `instanceof` is not enough. */
export function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** Thrown by a command that has decided its exit code (e.g. `runs start --watch`: the run's result). */
export class ExitWith extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
