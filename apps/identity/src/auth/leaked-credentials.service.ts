import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { IdentityEvents } from '#contracts';
import { Database, EventStore, type RequestContext } from '#platform';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { RunnersService } from '../runners/runners.service';
import { PatsService } from '../tokens/pats.service';
import { GatewayInvalidator } from './gateway-invalidator';

type Revoked = { kind: 'pat' | 'runner' | 'api_key'; id: string };

/**
 * Whoever holds a leaked token can kill it (like GitHub's credential revocation API). Callers are
 * never told which hashes matched. A report that killed something is audited (an event naming what
 * died); one that killed nothing leaves no event — anyone may send them, so they would fill the
 * permanent log — and is only counted (the gateway's `gantry_leak_reports_total` metric).
 */
@Injectable()
export class LeakedCredentialsService {
  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly pats: PatsService,
    private readonly runners: RunnersService,
    private readonly apiKeys: ApiKeysService,
    private readonly invalidator: GatewayInvalidator,
  ) {}

  /** Returns how many credentials died. */
  async revoke(hashes: string[], context: RequestContext): Promise<number> {
    const { rows } = await this.db.query<{ kind: string; token_id: string }>(
      `SELECT kind, token_id FROM token_hashes WHERE hash = ANY(SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h) AND kind IN ('pat', 'runner', 'api_key')`,
      [hashes],
    );
    const revoked: Revoked[] = [];
    for (const row of rows) {
      const id = row.token_id;
      const done = await this.store.execute(async (tx) => {
        if (row.kind === 'pat') return this.pats.revokeIn(tx, id, 'leaked', context);
        if (row.kind === 'runner') return this.runners.revokeIn(tx, id, 'leaked', context);
        return this.apiKeys.revokeIn(tx, id, null, 'leaked', context);
      });
      if (done) revoked.push({ kind: row.kind as Revoked['kind'], id });
    }
    if (revoked.length === 0) return 0;
    const reportId = randomUUID();
    await this.store.execute((tx) =>
      this.store.append(tx, `leak-report-${reportId}`, 0, [
        { contract: IdentityEvents.credentialRevokedAsLeaked, data: { submitted: hashes.length, revoked }, subject: { kind: 'leak_report', id: reportId } },
      ], context),
    );
    await this.invalidator.invalidate({ credentialIds: revoked.map((r) => r.id) });
    return revoked.length;
  }
}
