import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../column-types.js';

/**
 * The rows of an asynchronous bulk upsert (a call of more than 10,000 rows, or `?async=true`)
 * and each row's result, written in the same transaction as the row's change: a job killed
 * half-way resumes with the rows that have no result yet (src/services/bulk-service.ts).
 */
export function bulkJobsMigration(dialect: Dialect): Migration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('bulk_job_rows')
        // The id the call's rows are stored under (in the job's payload), not a foreign key: the
        // job is enqueued once every row is stored.
        .addColumn('batch_id', t.text, (c) => c.notNull())
        .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('key', t.text, (c) => c.notNull())
        .addColumn('row', t.json, (c) => c.notNull())
        .addColumn('status', t.text)
        .addColumn('user_id', t.text)
        .addColumn('error', t.json)
        .addPrimaryKeyConstraint('bulk_job_rows_pk', ['batch_id', 'seq'])
        .execute();
      await db.schema.createIndex('bulk_job_rows_status_ix').on('bulk_job_rows').columns(['batch_id', 'status', 'seq']).execute();
    },
  };
}
