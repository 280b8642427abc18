import { sql, type Kysely, type Selectable } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { DB, EventTable } from '../db/schema.js';
import { insertValues } from './insert-values.js';
import { parseJson, toJson } from '../db/json-columns.js';
import type { DomainEvent, EventContext, FieldChanges } from '../domain/event.js';

export interface EventQuery {
  tenantId: string;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
  type?: string | undefined;
  /** Only events with a position above this one. */
  after?: number | undefined;
  /** Only events with a position below this one. */
  before?: number | undefined;
  /** By position: 'desc' newest first (the audit view), 'asc' oldest first (the change feed). */
  order: 'asc' | 'desc';
  limit: number;
}

/** Rows per INSERT: far below both databases' bound-parameter limits (11 per row). */
const INSERT_CHUNK = 500;

/**
 * The event log (outbox). Events are written with the change they describe, in its transaction,
 * and take their feed position at the very end of it:
 *
 * `append` only queues; `flush` (the store calls it once the unit of work has returned, right
 * before COMMIT) increments the tenant's row in `event_positions` and inserts the events with
 * the positions it handed out. The increment takes that row's lock and holds it until the
 * transaction ends, so the next writer of the tenant gets its positions only once this commit
 * is visible (PostgreSQL releases row locks after the commit is visible to new snapshots).
 * Hence positions are strictly increasing in commit order: a reader that has seen everything up
 * to P can never later find a newly committed event at or below P. A rolled-back transaction
 * rolls its increment back too, so positions stay dense per tenant.
 *
 * The lock is held only for that last insert and the COMMIT itself, whatever the unit did before;
 * after it a transaction only inserts events (whose tenant foreign key could, at worst, meet a
 * concurrent deletion of the same tenant: PostgreSQL then aborts one of the two). On SQLite
 * one writer commits at a time and the group commit (sqlite-group-commit.ts) runs units in order
 * inside one COMMIT, so the same code yields the same order there.
 */
export class EventRepository {
  private readonly pending: DomainEvent[] = [];

  /** `unitOfWork`: bound to a store transaction (the only place events may be appended). */
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
    private readonly unitOfWork: boolean,
  ) {}

  /** Queues events of this unit of work; they are written (and numbered) by `flush` at its end. */
  async append(events: DomainEvent[]): Promise<void> {
    if (!this.unitOfWork) throw new Error('Events are appended inside store.transaction, so that a change and its event commit together.');
    this.pending.push(...events);
  }

  /** How many events are queued: a mark to return to with `discardFrom` (a savepoint rolled back). */
  mark(): number {
    return this.pending.length;
  }

  /** Drops the events queued since `mark`: their change was rolled back to a savepoint. */
  discardFrom(mark: number): void {
    this.pending.length = Math.min(this.pending.length, mark);
  }

  /** Writes the queued events with their positions; the store's transaction calls it last. */
  async flush(): Promise<void> {
    const events = this.pending.splice(0);
    // Tenants in a fixed order: two transactions never wait for each other's counter crosswise.
    for (const tenantId of [...new Set(events.map((e) => e.tenantId))].sort()) {
      const own = events.filter((e) => e.tenantId === tenantId);
      const last = await this.takePositions(tenantId, own.length);
      const rows = own.map((e, i) => toRow(e, last - own.length + 1 + i));
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) await insertValues(this.db, this.dialect, 'events', rows.slice(i, i + INSERT_CHUNK));
    }
  }

  /**
   * Reserves `count` positions of the tenant's feed; returns the last one. Locks the counter row until COMMIT.
   * Written as SQL text rather than with the query builder: it runs in every write transaction, and
   * building this upsert costs about ten times what running it does (bench/README.md).
   */
  private async takePositions(tenantId: string, count: number): Promise<number> {
    const { rows } = await sql<{ last_position: number | string }>`
      insert into event_positions (tenant_id, last_position) values (${tenantId}, ${count})
      on conflict (tenant_id) do update set last_position = event_positions.last_position + excluded.last_position
      returning last_position`.execute(this.db);
    const row = rows[0];
    if (!row) throw new Error('The event position upsert returned no row.');
    return Number(row.last_position);
  }

  /** One page of a tenant's events by position, optionally of one resource or type. */
  async list(query: EventQuery): Promise<DomainEvent[]> {
    let q = this.db.selectFrom('events').selectAll().where('tenant_id', '=', query.tenantId);
    if (query.resourceType !== undefined) q = q.where('resource_type', '=', query.resourceType);
    if (query.resourceId !== undefined) q = q.where('resource_id', '=', query.resourceId);
    if (query.type !== undefined) q = q.where('type', '=', query.type);
    if (query.after !== undefined) q = q.where('position', '>', query.after);
    if (query.before !== undefined) q = q.where('position', '<', query.before);
    const rows = await q.orderBy('position', query.order).limit(query.limit).execute();
    return rows.map(toEvent);
  }

  /**
   * The latest event of one of `types` about each of `resourceIds` (e.g. each user's latest
   * lifecycle event): one query per 500 resources. Resources with none are absent.
   */
  async latestOfResources(tenantId: string, resourceType: string, resourceIds: readonly string[], types: readonly string[]): Promise<Map<string, DomainEvent>> {
    const latest = new Map<string, DomainEvent>();
    const ids = [...new Set(resourceIds)];
    for (let i = 0; i < ids.length && types.length > 0; i += 500) {
      const rows = await this.db
        .selectFrom('events')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('resource_type', '=', resourceType)
        .where('resource_id', 'in', ids.slice(i, i + 500))
        .where('type', 'in', [...types])
        .orderBy('position', 'desc')
        .execute();
      for (const row of rows) if (!latest.has(row.resource_id)) latest.set(row.resource_id, toEvent(row));
    }
    return latest;
  }
}

function toRow(e: DomainEvent, position: number) {
  return {
    id: e.id,
    tenant_id: e.tenantId,
    position,
    type: e.type,
    actor_type: e.actorType,
    actor_id: e.actorId,
    resource_type: e.resourceType,
    resource_id: e.resourceId,
    occurred_at: e.occurredAt,
    changes: toJson(e.changes),
    context: Object.keys(e.context).length > 0 ? toJson(e.context) : null,
  };
}

function toEvent(row: Selectable<EventTable>): DomainEvent {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    position: Number(row.position),
    type: row.type,
    actorType: row.actor_type,
    actorId: row.actor_id,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    occurredAt: row.occurred_at,
    changes: parseJson<FieldChanges>(row.changes, {}),
    context: parseJson<EventContext>(row.context, {}),
  };
}
