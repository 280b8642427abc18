import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../column-types.js';

/**
 * The durable job table (see src/jobs): work enqueued in the same transaction as the change that
 * causes it, claimed by runners with a lease.
 */
export function jobsMigration(dialect: Dialect): Migration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('jobs')
        .addColumn('id', t.text, (c) => c.primaryKey())
        // Null for system jobs (housekeeping); a tenant's jobs go with the tenant.
        .addColumn('tenant_id', t.text, (c) => c.references('tenants.id').onDelete('cascade'))
        .addColumn('type', t.text, (c) => c.notNull())
        .addColumn('payload', t.json, (c) => c.notNull())
        .addColumn('status', t.text, (c) => c.notNull())
        .addColumn('unique_key', t.text)
        .addColumn('run_at', t.timestamp, (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('lease_owner', t.text)
        .addColumn('lease_expires_at', t.timestamp)
        .addColumn('last_error', t.text)
        .addColumn('progress', t.json)
        .addColumn('result', t.json)
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .addColumn('started_at', t.timestamp)
        .addColumn('finished_at', t.timestamp)
        .execute();
      // A unique key holds only while its job is unfinished: the next run of a recurring job may
      // reuse it. Inserts name this predicate in ON CONFLICT so both databases infer this index.
      await db.schema
        .createIndex('jobs_unique_key_uq')
        .on('jobs')
        .column('unique_key')
        .unique()
        .where(sql.ref('status'), 'in', [sql.lit('queued'), sql.lit('running')])
        .execute();
      // Claiming: due queued jobs, and running jobs whose lease expired.
      await db.schema.createIndex('jobs_claim_ix').on('jobs').columns(['status', 'run_at']).execute();
      await db.schema.createIndex('jobs_tenant_ix').on('jobs').columns(['tenant_id', 'id']).execute();
    },
  };
}
