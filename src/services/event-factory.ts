import type { Clock } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import type { EventType } from '../domain/event-catalogue.js';
import type { DomainEvent, FieldChanges } from '../domain/event.js';
import type { Principal } from '../domain/principal.js';

/**
 * An event about `resource`, by the caller, now: every service builds its events here. The actor
 * and the call's context (request id, …) come from the principal; the feed position is assigned
 * when the transaction commits (see EventRepository), so it is 0 here.
 */
export function newEvent(principal: Principal, clock: Clock, type: EventType, resourceType: string, resourceId: string, changes: FieldChanges): DomainEvent {
  return {
    id: newId(),
    tenantId: principal.tenantId,
    position: 0,
    type,
    actorType: principal.actorType,
    actorId: principal.actorId,
    resourceType,
    resourceId,
    occurredAt: clock.now().toISOString(),
    changes,
    context: { ...principal.context },
  };
}
