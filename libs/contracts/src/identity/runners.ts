import { z } from 'zod';
import { defineRequest } from '../kernel';
import { storableString } from '../strings';

export const LabelsSchema = z.array(storableString().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, _ . : - only')).max(32);

export const CreateInstallTokenBodySchema = z.strictObject({
  labels: LabelsSchema.optional(),
  description: storableString().max(200).optional(),
  /** Whether the runner may add labels of its own at the exchange (default false: the token's labels only). */
  allowRunnerLabels: z.boolean().optional(),
});

export const InstallTokenStatusSchema = z.enum(['pending', 'used', 'expired', 'cancelled']);

/** An install token as lists show it: never the token. */
export const InstallTokenSchema = z.strictObject({
  id: z.uuid(),
  status: InstallTokenStatusSchema,
  labels: z.array(z.string()),
  description: z.string().nullable(),
  allowRunnerLabels: z.boolean(),
  createdAt: z.iso.datetime({ offset: true }),
  expiresAt: z.iso.datetime({ offset: true }),
  usedAt: z.iso.datetime({ offset: true }).nullable(),
  runnerId: z.uuid().nullable(),
});

export const CreatedInstallTokenSchema = z.strictObject({
  id: z.uuid(),
  token: z.string(),
  expiresAt: z.iso.datetime({ offset: true }),
  createdAt: z.iso.datetime({ offset: true }),
});

/** Body of the public exchange: the install token itself is the credential. */
export const ExchangeBodySchema = z.strictObject({
  token: storableString().min(1).max(100),
  runnerName: storableString().min(1).max(100).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
  labels: LabelsSchema.optional(),
});

export const RunnerSchema = z.strictObject({
  id: z.uuid(),
  name: z.string(),
  labels: z.array(z.string()),
  createdAt: z.iso.datetime({ offset: true }),
  lastSeenAt: z.iso.datetime({ offset: true }).nullable(),
  revokedAt: z.iso.datetime({ offset: true }).nullable(),
});

export const RunnerTokenSchema = z.strictObject({ token: z.string(), runnerId: z.uuid(), runnerName: z.string(), labels: z.array(z.string()) });

const Id = z.strictObject({ id: z.uuid() });

export const RunnerRequests = {
  mintInstallToken: defineRequest('identity.install_token.mint.v1', { request: CreateInstallTokenBodySchema, response: CreatedInstallTokenSchema }),
  listInstallTokens: defineRequest('identity.install_token.list.v1', { request: z.strictObject({}), response: z.strictObject({ items: z.array(InstallTokenSchema) }) }),
  cancelInstallToken: defineRequest('identity.install_token.cancel.v1', { request: Id, response: InstallTokenSchema }),
  /** The raw install token crosses NATS only as its SHA-256. */
  exchange: defineRequest('identity.install_token.exchange.v1', {
    request: z.strictObject({ hash: z.string().regex(/^[0-9a-f]{64}$/), runnerName: storableString(), labels: z.array(storableString()) }),
    response: RunnerTokenSchema,
  }),
  list: defineRequest('identity.runner.list.v1', { request: z.strictObject({}), response: z.strictObject({ items: z.array(RunnerSchema) }) }),
  get: defineRequest('identity.runner.get.v1', { request: Id, response: RunnerSchema }),
  revoke: defineRequest('identity.runner.revoke.v1', { request: Id, response: RunnerSchema }),
  rotate: defineRequest('identity.runner.rotate.v1', { request: Id, response: RunnerTokenSchema }),
  heartbeat: defineRequest('identity.runner.heartbeat.v1', { request: Id, response: RunnerSchema }),
} as const;
