import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { parseJson, toJson } from '../db/json-columns.js';

/** Rows per multi-row insert (8 columns: far below either database's parameter limit). */
const INSERT_CHUNK = 500;

/** One row's result, as stored and as GET /v1/jobs/{id}/results lists it. */
export interface BulkRowResult {
  /** 0-based position of the row in the call. */
  index: number;
  key: string;
  status: 'added' | 'updated' | 'unchanged' | 'error' | null;
  userId: string | null;
  error: unknown;
}

/** The rows of asynchronous bulk upserts and their results (migration 0012). */
export class BulkJobRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** Stores rows from position `firstSeq` on (seq = index + 1), without results. */
  async appendRows(batchId: string, tenantId: string, firstSeq: number, rows: readonly { key: string; row: unknown }[]): Promise<void> {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const values = rows.slice(i, i + INSERT_CHUNK).map((r, k) => ({ batch_id: batchId, tenant_id: tenantId, seq: firstSeq + i + k, key: r.key, row: toJson(r.row), status: null, user_id: null, error: null }));
      await this.db.insertInto('bulk_job_rows').values(values).execute();
    }
  }

  /** Rows without a result yet, in order after `afterSeq`. */
  async pending(batchId: string, afterSeq: number, limit: number): Promise<{ seq: number; row: Record<string, unknown> }[]> {
    const rows = await this.db.selectFrom('bulk_job_rows').select(['seq', 'row']).where('batch_id', '=', batchId).where('status', 'is', null).where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({ seq: r.seq, row: parseJson<Record<string, unknown>>(r.row, {}) }));
  }

  async setResults(batchId: string, results: readonly { seq: number; status: string; userId: string | null; error: unknown }[]): Promise<void> {
    for (const r of results) {
      await this.db
        .updateTable('bulk_job_rows')
        .set({ status: r.status, user_id: r.userId, error: r.error === null ? null : toJson(r.error) })
        .where('batch_id', '=', batchId)
        .where('seq', '=', r.seq)
        .execute();
    }
  }

  /** A page of results in row order, optionally of one status. */
  async results(batchId: string, tenantId: string, q: { status?: string | undefined; afterSeq: number; limit: number }): Promise<BulkRowResult[]> {
    const rows = await this.db
      .selectFrom('bulk_job_rows')
      .select(['seq', 'key', 'status', 'user_id', 'error'])
      .where('batch_id', '=', batchId)
      .where('tenant_id', '=', tenantId)
      .$if(q.status !== undefined, (b) => b.where('status', '=', q.status as string))
      .where('seq', '>', q.afterSeq)
      .orderBy('seq')
      .limit(q.limit)
      .execute();
    return rows.map((r) => ({ index: r.seq - 1, key: r.key, status: r.status as BulkRowResult['status'], userId: r.user_id, error: parseJson(r.error, null) }));
  }

  /** Rows per result status (null: not done yet). */
  async counts(batchId: string): Promise<Map<string | null, number>> {
    const rows = await this.db.selectFrom('bulk_job_rows').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).where('batch_id', '=', batchId).groupBy('status').execute();
    return new Map(rows.map((r) => [r.status, Number(r.n)]));
  }
}
