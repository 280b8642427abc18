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

  async complete(tenantId: string, actorId: string, key: string, statusCode: number, headers: Record<string, string>, body: string): Promise<void> {
    await this.db
      .updateTable('idempotency_keys')
      .set({ state: 'done', status_code: statusCode, response_headers: toJson(headers), response_body: body })
      .where('tenant_id', '=', tenantId)
      .where('actor_id', '=', actorId)
      .where('key', '=', key)
      .execute();
  }

  async release(tenantId: string, actorId: string, key: string): Promise<void> {
    await this.db.deleteFrom('idempotency_keys').where('tenant_id', '=', tenantId).where('actor_id', '=', actorId).where('key', '=', key).execute();
  }

  async purgeExpired(now: string): Promise<void> {
    await this.db.deleteFrom('idempotency_keys').where('expires_at', '<', now).execute();
  }
}
