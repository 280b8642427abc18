import { AppError } from '../errors/app-error.js';
import { isUuid } from '../lib/ids.js';
import type { DomainEvent } from '../domain/event.js';
import type { Principal } from '../domain/principal.js';
import type { Store } from '../repositories/store.js';

export interface EventPage {
  items: DomainEvent[];
  nextCursor: string | null;
}

export interface EventListQuery {
  limit: number;
  cursor?: string | undefined;
  type?: string | undefined;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
}

/** The audit trail: read-only views over the events written with every change. */
export class EventService {
  constructor(private readonly store: Store) {}

  async list(principal: Principal, query: EventListQuery): Promise<EventPage> {
    return this.page(principal.tenantId, query);
  }

  /** A deleted user's history stays readable: the audit trail outlives the user. */
  async userHistory(principal: Principal, userId: string, query: { limit: number; cursor?: string | undefined }): Promise<EventPage> {
    const page = await this.page(principal.tenantId, { ...query, resourceType: 'user', resourceId: userId });
    if (page.items.length === 0 && query.cursor === undefined && !(await this.store.repos.users.exists(principal.tenantId, userId))) {
      throw new AppError('user.not_found', `No user with id ${userId}.`);
    }
    return page;
  }

  private async page(tenantId: string, query: EventListQuery): Promise<EventPage> {
    // The cursor is the id of the last event returned: ids are time-ordered UUIDv7.
    if (query.cursor !== undefined && !isUuid(query.cursor)) throw new AppError('request.invalid_cursor', 'The cursor must be a value returned as nextCursor.');
    const rows = await this.store.repos.events.list({
      tenantId,
      type: query.type,
      resourceType: query.resourceType,
      resourceId: query.resourceId,
      before: query.cursor,
      limit: query.limit + 1,
    });
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > query.limit && last ? last.id : null };
  }
}
