import type { Static } from '@sinclair/typebox';
import type { DomainEvent } from '../../domain/event.js';
import { withSortedKeys } from '../../lib/stable-json.js';
import type { EventSchema } from '../schemas/event-schemas.js';

/**
 * An event as the API shows it (the tenant id stays inside). `changes` and `context` come back
 * from a JSON column whose key order differs between the databases (jsonb reorders keys), so
 * their keys, at every depth, are shown in code-point order on both.
 */
export const presentEvent = (event: DomainEvent): Static<typeof EventSchema> => ({
  id: event.id,
  position: event.position,
  type: event.type,
  occurredAt: event.occurredAt,
  actor: { type: event.actorType, id: event.actorId },
  resource: { type: event.resourceType, id: event.resourceId },
  changes: withSortedKeys(event.changes),
  context: withSortedKeys(event.context),
});
