import { Type } from '@sinclair/typebox';
import { EVENT_CATALOGUE } from '../../domain/event-catalogue.js';
import { DIRECTORY } from '../../domain/directory.js';
import { Nullable, PageSizeQuery, Timestamp, Uuid } from './common-schemas.js';

const Position = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

export const EventContextSchema = Type.Object(
  {
    requestId: Type.Optional(Type.String({ description: 'The X-Request-Id of the HTTP request that made the change.' })),
    syncRunId: Type.Optional(Type.String()),
    workflowId: Type.Optional(Type.String()),
    jobId: Type.Optional(Type.String()),
  },
  { description: 'Where the change came from, beyond the actor; empty when the caller had no context (e.g. the CLI).', 'x-component': 'EventContext' },
);

export const EventSchema = Type.Object({
  id: Uuid,
  position: Type.Integer({
    description:
      "Place in the tenant's feed: strictly increasing in commit order, so a reader that has seen everything up to P never later finds " +
      'a new event at or below P. Use it with ?after= to follow the feed.',
  }),
  type: Type.String({
    description: `One of GET /v1/event-types, e.g. ${Object.keys(EVENT_CATALOGUE).slice(0, 4).join(', ')}. Events keep the type they were written with.`,
  }),
  occurredAt: Timestamp,
  actor: Type.Object({ type: Type.String({ description: 'client, api_token or system' }), id: Nullable(Type.String()) }),
  resource: Type.Object({ type: Type.String({ description: `user or a directory kind (${Object.keys(DIRECTORY).join(', ')})` }), id: Type.String() }),
  changes: Type.Record(Type.String(), Type.Object({ from: Type.Unknown(), to: Type.Unknown() }), { description: 'Field-level before/after.' }),
  context: EventContextSchema,
}, { 'x-component': 'Event' });

export const EventListQuery = Type.Object(
  {
    ...PageSizeQuery,
    cursor: Type.Optional(Type.String({ maxLength: 64, description: 'A nextCursor or prevCursor of an earlier page.' })),
    before: Type.Optional({ ...Position, description: 'Events with a lower position, newest first.' }),
    after: Type.Optional({ ...Position, description: 'Events with a higher position, oldest first: the change-feed direction.' }),
    type: Type.Optional(Type.String({ maxLength: 128 })),
    resourceType: Type.Optional(Type.String({ maxLength: 64 })),
    resourceId: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);

export const EventPageSchema = Type.Object({
  items: Type.Array(EventSchema),
  nextCursor: Nullable(Type.String({ description: "Pass as ?cursor= to continue in this page's direction; null when there is nothing more now." })),
  prevCursor: Type.String({
    description: "Pass as ?cursor= for the other side of this page's first event (after a newest-first page: the newer events, oldest first).",
  }),
}, { 'x-component': 'EventFeedPage' });

export const EventTypeSchema = Type.Object({
  type: Type.String({ description: 'e.g. user.created' }),
  resource: Type.String({ description: 'The resource.type of its events: user or a directory kind.' }),
  description: Type.String(),
  payload: Type.String({ description: 'What the event\'s changes carry.' }),
}, { 'x-component': 'EventType' });
export const EventTypeList = Type.Object({ items: Type.Array(EventTypeSchema) }, { 'x-component': 'EventTypeList' });
