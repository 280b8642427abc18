import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { parseJson, toJson } from '../db/json-columns.js';
import { isUniqueViolation } from '../db/constraint-errors.js';

export interface IdempotencyRecord {
  tenantId: string;
  actorId: string;
  key: string;
  fingerprint: string;
  state: 'pending' | 'done';
  statusCode: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  createdAt: string;
  expiresAt: string;
}

export class IdempotencyRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Claims the key for `record` (pending): `{ claimed: true }`, or the request that holds it
   * (`holder`; undefined if it vanished in between, e.g. purged: try again). The insert and the
   * read after a lost insert run back to back on one connection, so `holder` is the holder as it
   * was when the claim was refused: on SQLite (one connection, taken in turn) the holder's own
   * completion cannot slip in between and turn an overlapping request's 409 into a replay;
   * PostgreSQL commits the pending row at once, so every later claim sees it. Both databases thus
   * answer a request that overlaps the first the same way.
   */
  async claim(record: IdempotencyRecord): Promise<{ claimed: true } | { claimed: false; holder: IdempotencyRecord | undefined }> {
    return this.db.connection().execute(async (connection) => {
      const repo = new IdempotencyRepository(connection);
      if (await repo.tryInsertPending(record)) return { claimed: true };
      return { claimed: false, holder: await repo.find(record.tenantId, record.actorId, record.key) };
    });
  }

  async find(tenantId: string, actorId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const row = await this.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('actor_id', '=', actorId)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      tenantId: row.tenant_id,
      actorId: row.actor_id,
      key: row.key,
      fingerprint: row.fingerprint,
      state: row.state as IdempotencyRecord['state'],
      statusCode: row.status_code,
      responseHeaders: parseJson<Record<string, string> | null>(row.response_headers, null),
      responseBody: row.response_body,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
    };
  }

  /** Claims the key; false when another request holds it already. The unique key decides races. */
  async tryInsertPending(record: IdempotencyRecord): Promise<boolean> {
    try {
      await this.db
        .insertInto('idempotency_keys')
        .values({
          tenant_id: record.tenantId,
          actor_id: record.actorId,
          key: record.key,
          fingerprint: record.fingerprint,
          state: 'pending',
          status_code: null,
          response_headers: null,
          response_body: null,
          created_at: record.createdAt,
          expires_at: record.expiresAt,
        })
        .execute();
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  /**
   * Stores the response of the claim made at `claimedAt`, if that claim still holds the key
   * (a request that ran so long that a retry took its abandoned claim over must not overwrite
   * the new holder's record). Returns whether it did.
   */
  async complete(tenantId: string, actorId: string, key: string, claimedAt: string, statusCode: number, headers: Record<string, string>, body: string): Promise<boolean> {
    const result = await this.db
      .updateTable('idempotency_keys')
      .set({ state: 'done', status_code: statusCode, response_headers: toJson(headers), response_body: body })
      .where('tenant_id', '=', tenantId)
      .where('actor_id', '=', actorId)
      .where('key', '=', key)
      .where('state', '=', 'pending')
      .where('created_at', '=', claimedAt)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Frees the key if it is still held by the claim made at `claimedAt` in `state`: of several
   * requests that found the same expired or abandoned claim, exactly one removes it (the others
   * then compete for the key again, and the unique key picks one).
   */
  async release(tenantId: string, actorId: string, key: string, claimedAt: string, state: IdempotencyRecord['state']): Promise<boolean> {
    const result = await this.db
      .deleteFrom('idempotency_keys')
      .where('tenant_id', '=', tenantId)
      .where('actor_id', '=', actorId)
      .where('key', '=', key)
      .where('created_at', '=', claimedAt)
      .where('state', '=', state)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async purgeExpired(now: string): Promise<void> {
    await this.db.deleteFrom('idempotency_keys').where('expires_at', '<', now).execute();
  }
}
