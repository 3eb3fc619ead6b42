import { z } from 'zod';

/** Every service answers a ping over NATS after checking its own dependencies. */
export const PingResponseSchema = z.strictObject({
  service: z.string(),
  status: z.enum(['ok', 'degraded']),
  checks: z.record(z.string(), z.enum(['up', 'down'])),
});
export type PingResponse = z.infer<typeof PingResponseSchema>;

/** `GET /healthz` of the gateway: the process answers (liveness). */
export const LivenessSchema = z.strictObject({ status: z.literal('ok') });

/**
 * `GET /readyz` of the gateway: 200 when NATS is connected and every service answers its ping
 * (which checks its database), else 503 with the same body naming what is down.
 */
export const ReadinessSchema = z.strictObject({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.enum(['up', 'down'])),
});
export type Readiness = z.infer<typeof ReadinessSchema>;

/** `GET /.well-known/jwks.json`: the public keys session JWTs are signed with (RFC 7517, Ed25519). */
export const JwksSchema = z.strictObject({
  keys: z.array(z.strictObject({
    kty: z.literal('OKP'),
    crv: z.literal('Ed25519'),
    /** The public key, base64url (RFC 8037). */
    x: z.string().regex(/^[A-Za-z0-9_-]+$/),
    /** The key's RFC 7638 thumbprint: the `kid` in a session JWT's header. */
    kid: z.string().min(1),
    alg: z.literal('EdDSA'),
    use: z.literal('sig'),
  })),
});
