import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { exportJWK, generateKeyPair, importJWK, calculateJwkThumbprint, type JWK, type CryptoKey } from 'jose';
import type { Logger } from 'pino';
import { IdentityEvents, SYSTEM_ACTOR } from '#contracts';
import { Database, EventStore, LOGGER } from '#platform';

interface ActiveKey {
  kid: string;
  privateKey: CryptoKey;
}

/**
 * The Ed25519 key pair that signs session JWTs: generated on the first start, kept in identity's
 * own table (never on an event), its public half served as a JWK set.
 */
@Injectable()
export class SigningKeysService implements OnApplicationBootstrap {
  private active: ActiveKey | null = null;
  private publicKeys: JWK[] = [];

  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureKey();
    await this.load();
  }

  get current(): ActiveKey {
    if (!this.active) throw new Error('signing key not loaded');
    return this.active;
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.publicKeys };
  }

  private async ensureKey(): Promise<void> {
    const { rows } = await this.db.query('SELECT 1 FROM signing_keys LIMIT 1');
    if (rows.length > 0) return;
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = await exportJWK(privateKey);
    await this.store.execute(async (tx) => {
      // Two replicas racing on first start: the lock holder creates the key, the other finds it.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('gantry-signing-key'))`);
      const existing = await tx.query('SELECT 1 FROM signing_keys LIMIT 1');
      if (existing.rows.length > 0) return;
      await tx.query('INSERT INTO signing_keys (kid, private_jwk, public_jwk) VALUES ($1, $2, $3)', [
        kid, { ...privateJwk, kid, alg: 'EdDSA' }, { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' },
      ]);
      await this.store.append(tx, `signing-key-${kid}`, 0, [
        { contract: IdentityEvents.signingKeyCreated, data: { kid, alg: 'EdDSA' }, subject: { kind: 'signing_key', id: kid } },
      ], { actor: SYSTEM_ACTOR, requestId: null, ip: null });
    });
    this.logger.info({ kid }, 'session signing key created');
  }

  private async load(): Promise<void> {
    const { rows } = await this.db.query<{ kid: string; private_jwk: JWK; public_jwk: JWK }>(
      'SELECT kid, private_jwk, public_jwk FROM signing_keys ORDER BY created_at DESC',
    );
    const newest = rows[0];
    this.active = { kid: newest.kid, privateKey: (await importJWK(newest.private_jwk, 'EdDSA')) as CryptoKey };
    this.publicKeys = rows.map((row) => row.public_jwk);
  }
}
