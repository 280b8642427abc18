import type { Clock } from '../lib/clock.js';
import { newId } from '../lib/ids.js';
import type { DomainEvent, FieldChanges } from '../domain/event.js';
import type { Principal } from '../domain/principal.js';

/** An event about `resource`, by the caller, now: every service builds its events here. */
export function newEvent(principal: Principal, clock: Clock, type: string, resourceType: string, resourceId: string, changes: FieldChanges): DomainEvent {
  return {
    id: newId(),
    tenantId: principal.tenantId,
    type,
    actorType: principal.actorType,
    actorId: principal.actorId,
    resourceType,
    resourceId,
    occurredAt: clock.now().toISOString(),
    changes,
  };
}
