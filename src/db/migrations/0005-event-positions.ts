import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../column-types.js';

/**
 * Events get a feed position in commit order and the context of the call that wrote them.
 *
 * - `events.position`: per tenant, strictly increasing in commit order (see EventRepository).
 *   Existing events are numbered in id order (UUIDv7: the order they were written in).
 * - `events.context`: {requestId?, syncRunId?, workflowId?, jobId?} or null.
 * - `event_positions`: per tenant, the last position handed out. Writers take the next ones by
 *   updating this row just before COMMIT, which holds the row lock until the commit is visible.
 * - Indexes serve the tenant's feed and a resource's history by position (the id-ordered ones go).
 *
 * SQLite cannot add a NOT NULL column without a default, so it rebuilds the table keeping every row.
 */
export function eventPositionsMigration(dialect: Dialect): Migration {
  const t = columnTypes(dialect);
  const position = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect === 'postgres') {
        await db.schema.alterTable('events').addColumn('position', 'bigint').execute();
        await db.schema.alterTable('events').addColumn('context', t.json).execute();
        await sql`
          update events set position = numbered.n
          from (select id, row_number() over (partition by tenant_id order by id) as n from events) as numbered
          where events.id = numbered.id`.execute(db);
        await db.schema.alterTable('events').alterColumn('position', (c) => c.setNotNull()).execute();
        await db.schema.dropIndex('events_tenant_ix').execute();
        await db.schema.dropIndex('events_resource_ix').execute();
      } else {
        await db.schema
          .createTable('events_rebuilt')
          .addColumn('id', t.text, (c) => c.primaryKey())
          .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
          .addColumn('position', position, (c) => c.notNull())
          .addColumn('type', t.text, (c) => c.notNull())
          .addColumn('actor_type', t.text, (c) => c.notNull())
          .addColumn('actor_id', t.text)
          .addColumn('resource_type', t.text, (c) => c.notNull())
          .addColumn('resource_id', t.text, (c) => c.notNull())
          .addColumn('occurred_at', t.timestamp, (c) => c.notNull())
          .addColumn('changes', t.json, (c) => c.notNull())
          .addColumn('context', t.json)
          .execute();
        await sql`
          insert into events_rebuilt (id, tenant_id, position, type, actor_type, actor_id, resource_type, resource_id, occurred_at, changes)
          select id, tenant_id, row_number() over (partition by tenant_id order by id),
                 type, actor_type, actor_id, resource_type, resource_id, occurred_at, changes
          from events`.execute(db);
        await db.schema.dropTable('events').execute(); // its indexes go with it
        await db.schema.alterTable('events_rebuilt').renameTo('events').execute();
      }
      await db.schema.createIndex('events_feed_uq').on('events').columns(['tenant_id', 'position']).unique().execute();
      await db.schema.createIndex('events_resource_position_ix').on('events').columns(['tenant_id', 'resource_type', 'resource_id', 'position']).execute();

      await db.schema
        .createTable('event_positions')
        .addColumn('tenant_id', t.text, (c) => c.primaryKey().references('tenants.id').onDelete('cascade'))
        .addColumn('last_position', position, (c) => c.notNull())
        .execute();
      await sql`insert into event_positions (tenant_id, last_position) select tenant_id, max(position) from events group by tenant_id`.execute(db);
    },
  };
}
