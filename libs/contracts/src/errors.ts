import { z } from 'zod';

/**
 * Every error code the API or a NATS reply can carry, with its HTTP status. Codes are part of the
 * public contract: clients switch on them. Add codes; never rename one.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  weak_password: 400,
  invalid_scope: 400,
  unknown_param: 400,
  invalid_path: 400,
  missing_param: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  invalid_token: 401,
  token_expired: 401,
  token_revoked: 401,
  user_deactivated: 401,
  invalid_install_token: 401,
  install_token_already_used: 401,
  forbidden: 403,
  session_required: 403,
  wrong_repository: 403,
  not_found: 404,
  asset_not_found: 404,
  conflict: 409,
  username_taken: 409,
  last_admin: 409,
  cannot_modify_self: 409,
  run_finished: 409,
  /** The same `Idempotency-Key` with a different request body (or a different endpoint). */
  idempotency_key_reused: 409,
  /** The first request under this `Idempotency-Key` is still being processed. */
  idempotency_key_in_use: 409,
  /** The first response under this key holds a secret, and this credential did not create it. */
  idempotency_key_other_credential: 409,
  /** The client took too long to send its request head (Node's parser). */
  request_timeout: 408,
  length_required: 411,
  already_exists: 412,
  precondition_failed: 412,
  payload_too_large: 413,
  too_large: 413,
  /** A path parameter over the router's length limit. */
  uri_too_long: 414,
  /** A body that is not `application/json` (UTF-8) on the JSON API. */
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  rate_limited: 429,
  /** Request headers over Node's `--max-http-header-size` (16 KiB by default). */
  headers_too_large: 431,
  internal_error: 500,
  identity_unavailable: 503,
  service_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ErrorCodeSchema = z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]);

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

/** The HTTP error envelope: `{ error: { code, message, requestId, field? } }`. */
export const ErrorEnvelopeSchema = z.strictObject({
  error: z.strictObject({
    code: ErrorCodeSchema,
    message: z.string(),
    requestId: z.string(),
    field: z.string().optional(),
  }),
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;

/** A domain error as it crosses NATS (data, never an `instanceof` check across the wire). */
export const WireErrorSchema = z.strictObject({
  code: ErrorCodeSchema,
  message: z.string(),
  field: z.string().optional(),
});
export type WireError = z.infer<typeof WireErrorSchema>;

/** Thrown by services for any expected failure; mapped to the envelope at the gateway. */
export class GantryError extends Error {
  override readonly name = 'GantryError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    // An expected outcome (401, 404, …), not a bug: skip the stack trace, which costs more than
    // the rest of a refused request (and refused requests are what brute force sends).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, options);
    Error.stackTraceLimit = limit;
  }

  toWire(): WireError {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }

  static fromWire(wire: WireError): GantryError {
    return new GantryError(wire.code, wire.message, wire.field);
  }
}
