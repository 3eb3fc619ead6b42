import { Inject, Injectable } from '@nestjs/common';
import { GantryError, parseToken, type LogLine } from '#contracts';
import { Database, type Tx } from '#platform';
import { CI_CONFIG, type CiConfig } from '../config';

interface Activity {
  log_lines: number;
  log_bytes: string;
  log_truncated: boolean;
}

/** Anything shaped like a Gantry token with a valid checksum is masked in stored logs. */
const TOKEN_SHAPE = /gt[pirck]_[0-9A-Za-z]{36}/g;
const PAGE_BYTES = 512 * 1024;

export function maskTokens(text: string): string {
  return text.includes('gt') ? text.replace(TOKEN_SHAPE, (token) => (parseToken(token) ? '***' : token)) : text;
}

/**
 * A run's stored log in PostgreSQL, one row per line keyed by (run, seq): readers resume at any
 * sequence number. Capped at GANTRY_CI_LOG_MAX_BYTES, then one truncation marker.
 */
@Injectable()
export class RunLogStore {
  constructor(
    private readonly db: Database,
    @Inject(CI_CONFIG) private readonly config: CiConfig,
  ) {}

  /**
   * Stores `texts` as lines `firstSeq, firstSeq + 1, …`. Lines already stored (a retry) are skipped;
   * a gap is a 409. Returns the lines actually stored (a truncation marker included).
   */
  append(runId: string, firstSeq: number, texts: string[]): Promise<LogLine[]> {
    return this.db.transaction(async (tx) => {
      const activity = await this.activity(tx, runId);
      if (activity.log_truncated) return []; // further lines are dropped
      if (firstSeq > activity.log_lines + 1) throw new GantryError('conflict', `log line ${firstSeq} sent before line ${activity.log_lines + 1}`, 'lines');
      const fresh = texts.slice(activity.log_lines + 1 - firstSeq);
      const { lines, bytes, truncated } = this.fit(fresh, activity.log_lines, Number(activity.log_bytes));
      if (lines.length === 0) return [];
      await tx.query(
        'INSERT INTO run_log_lines (run_id, seq, text) SELECT $1, s, t FROM unnest($2::int[], $3::text[]) AS u(s, t)',
        [runId, lines.map((line) => line.seq), lines.map((line) => line.text)],
      );
      await tx.query('UPDATE run_activity SET log_lines = $2, log_bytes = $3, log_truncated = $4 WHERE run_id = $1', [runId, lines[lines.length - 1].seq, bytes, truncated]);
      return lines;
    });
  }

  /** Stored lines after `afterSeq`: at most `limit`, and about 512 KiB (a NATS message's budget). */
  async page(runId: string, afterSeq: number, limit: number): Promise<LogLine[]> {
    // Sequence numbers are dense: bounding the range (not just LIMIT) keeps the plan an index range
    // scan even before the table has statistics (a fresh installation's first long log).
    const { rows } = await this.db.query<LogLine>(
      'SELECT seq, text FROM run_log_lines WHERE run_id = $1 AND seq > $2 AND seq <= $2 + $3 ORDER BY seq LIMIT $3',
      [runId, afterSeq, limit],
    );
    let bytes = 0;
    const page: LogLine[] = [];
    for (const row of rows) {
      bytes += row.text.length * 3;
      if (page.length > 0 && bytes > PAGE_BYTES) break;
      page.push(row);
    }
    return page;
  }

  private fit(texts: string[], stored: number, storedBytes: number): { lines: LogLine[]; bytes: number; truncated: boolean } {
    const max = this.config.GANTRY_CI_LOG_MAX_BYTES;
    const lines: LogLine[] = [];
    let bytes = storedBytes;
    for (const raw of texts) {
      const text = maskTokens(raw);
      const size = Buffer.byteLength(text) + 1;
      if (bytes + size > max) {
        lines.push({ seq: stored + lines.length + 1, text: `[gantry] log truncated: the stored log reached its limit of ${max} bytes` });
        return { lines, bytes, truncated: true };
      }
      bytes += size;
      lines.push({ seq: stored + lines.length + 1, text });
    }
    return { lines, bytes, truncated: false };
  }

  private async activity(tx: Tx, runId: string): Promise<Activity> {
    const { rows } = await tx.query<Activity>('SELECT log_lines, log_bytes, log_truncated FROM run_activity WHERE run_id = $1 FOR UPDATE', [runId]);
    if (!rows[0]) throw new GantryError('not_found', 'no such run');
    return rows[0];
  }
}
