import type { Static } from '@sinclair/typebox';
import type { DomainEvent } from '../../domain/event.js';
import type { EventSchema } from '../schemas/event-schemas.js';

/** An event as the API shows it (the tenant id stays inside). */
export const presentEvent = (event: DomainEvent): Static<typeof EventSchema> => ({
  id: event.id,
  position: event.position,
  type: event.type,
  occurredAt: event.occurredAt,
  actor: { type: event.actorType, id: event.actorId },
  resource: { type: event.resourceType, id: event.resourceId },
  changes: event.changes,
  context: event.context,
});
