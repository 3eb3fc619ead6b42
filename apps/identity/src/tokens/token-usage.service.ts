import { Injectable } from '@nestjs/common';
import { Database } from '#platform';

/** Batched last-use records from the gateways: at most one write per token a minute, no events. */
@Injectable()
export class TokenUsageService {
  constructor(private readonly db: Database) {}

  async record(uses: { credentialId: string; at: string; ip: string | null }[]): Promise<void> {
    // One row per token (the latest use), or PostgreSQL refuses to update a row twice in one statement.
    const latest = new Map<string, { credentialId: string; at: string; ip: string | null }>();
    for (const use of uses) {
      if (!/^[0-9a-f-]{36}$/.test(use.credentialId)) continue;
      const seen = latest.get(use.credentialId);
      if (!seen || Date.parse(use.at) > Date.parse(seen.at)) latest.set(use.credentialId, use);
    }
    const tokens = [...latest.values()];
    if (tokens.length === 0) return;
    await this.db.query(
      `INSERT INTO token_usage (token_id, last_used_at, last_used_ip)
       SELECT u.id::uuid, u.at, u.ip FROM unnest($1::text[], $2::timestamptz[], $3::text[]) AS u(id, at, ip)
       JOIN token_hashes th ON th.token_id = u.id::uuid
       ON CONFLICT (token_id) DO UPDATE SET last_used_at = EXCLUDED.last_used_at, last_used_ip = EXCLUDED.last_used_ip
       WHERE token_usage.last_used_at < EXCLUDED.last_used_at - interval '1 minute'`,
      [tokens.map((u) => u.credentialId), tokens.map((u) => u.at), tokens.map((u) => u.ip)],
    );
  }
}
