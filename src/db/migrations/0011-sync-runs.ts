import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../column-types.js';

/**
 * Directory sync runs (src/services/sync-service.ts): a run, the snapshot rows it received, and
 * its plan, one item per row or missing user, each with the outcome of its apply. Items are
 * written by the plan and updated in the same transaction as the change they apply, so a run
 * killed half-way resumes at the first item without an outcome.
 */
export function syncRunsMigration(dialect: Dialect): Migration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('sync_runs')
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('origin', t.text, (c) => c.notNull())
        .addColumn('status', t.text, (c) => c.notNull())
        .addColumn('options', t.json, (c) => c.notNull())
        .addColumn('received', 'integer', (c) => c.notNull())
        .addColumn('counts', t.json)
        .addColumn('applied', t.json)
        .addColumn('held_reasons', t.json, (c) => c.notNull())
        .addColumn('job_id', t.text)
        .addColumn('actor_type', t.text, (c) => c.notNull())
        .addColumn('actor_id', t.text)
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .addColumn('planned_at', t.timestamp)
        .addColumn('applied_at', t.timestamp)
        .execute();
      await db.schema.createIndex('sync_runs_tenant_ix').on('sync_runs').columns(['tenant_id', 'id']).execute();

      await db.schema
        .createTable('sync_run_rows')
        .addColumn('run_id', t.text, (c) => c.notNull().references('sync_runs.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        // The row's key in comparison form (identifierKey): finds the origin's users it omits.
        .addColumn('key_lower', t.text, (c) => c.notNull())
        .addColumn('row', t.json, (c) => c.notNull())
        .addPrimaryKeyConstraint('sync_run_rows_pk', ['run_id', 'seq'])
        .execute();
      await db.schema.createIndex('sync_run_rows_key_ix').on('sync_run_rows').columns(['run_id', 'key_lower']).execute();

      await db.schema
        .createTable('sync_run_items')
        .addColumn('run_id', t.text, (c) => c.notNull().references('sync_runs.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('key', t.text, (c) => c.notNull())
        // The snapshot row the item applies (null for a user the snapshot omits).
        .addColumn('row_seq', 'integer')
        .addColumn('user_id', t.text)
        .addColumn('action', t.text, (c) => c.notNull())
        // The user's version when planned (null: no user then): apply refuses an item whose user moved.
        .addColumn('base_version', 'integer')
        .addColumn('changes', t.json, (c) => c.notNull())
        .addColumn('warnings', t.json, (c) => c.notNull())
        .addColumn('error', t.json)
        .addColumn('outcome', t.text)
        .addColumn('outcome_error', t.json)
        .addPrimaryKeyConstraint('sync_run_items_pk', ['run_id', 'seq'])
        .execute();
      await db.schema.createIndex('sync_run_items_action_ix').on('sync_run_items').columns(['run_id', 'action', 'seq']).execute();
    },
  };
}
