import type { Kysely, Selectable } from 'kysely';
import type { DB, EventTable } from '../db/schema.js';
import { parseJson, toJson } from '../db/json-columns.js';
import type { DomainEvent, FieldChanges } from '../domain/event.js';

export interface EventQuery {
  tenantId: string;
  resourceType?: string;
  resourceId?: string;
  type?: string;
  /** Newest first: return events with an id lower than this one. */
  before?: string;
  limit: number;
}

export class EventRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async append(events: DomainEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db
      .insertInto('events')
      .values(
        events.map((e) => ({
          id: e.id,
          tenant_id: e.tenantId,
          type: e.type,
          actor_type: e.actorType,
          actor_id: e.actorId,
          resource_type: e.resourceType,
          resource_id: e.resourceId,
          occurred_at: e.occurredAt,
          changes: toJson(e.changes),
        })),
      )
      .execute();
  }

  /** Ids are UUIDv7, so ordering by id is ordering by time of writing. */
  async list(query: EventQuery): Promise<DomainEvent[]> {
    let q = this.db.selectFrom('events').selectAll().where('tenant_id', '=', query.tenantId);
    if (query.resourceType !== undefined) q = q.where('resource_type', '=', query.resourceType);
    if (query.resourceId !== undefined) q = q.where('resource_id', '=', query.resourceId);
    if (query.type !== undefined) q = q.where('type', '=', query.type);
    if (query.before !== undefined) q = q.where('id', '<', query.before);
    const rows = await q.orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(toEvent);
  }
}

function toEvent(row: Selectable<EventTable>): DomainEvent {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    type: row.type,
    actorType: row.actor_type,
    actorId: row.actor_id,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    occurredAt: row.occurred_at,
    changes: parseJson<FieldChanges>(row.changes, {}),
  };
}
