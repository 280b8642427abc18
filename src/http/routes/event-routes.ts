import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../../services/container.js';
import { pageSizeOf } from '../page-size.js';
import { presentEvent } from '../presenters/event-presenter.js';
import { problemResponses } from '../schemas/common-schemas.js';
import { EventListQuery, EventPageSchema, EventTypeList } from '../schemas/event-schemas.js';

const tags = ['Events'];

/** The audit trail / change feed (admin) and the catalogue of event types (any credential). */
export function registerEventRoutes(fastify: FastifyInstance, services: Services): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/v1/events', {
    config: { auth: 'admin' },
    schema: {
      tags,
      summary: "The tenant's events by position: newest first, ?before= for older, ?after= for newer (oldest first, the change feed)",
      querystring: EventListQuery,
      operationId: 'listEvents',
      description: 'Every change of the tenant, with who made it and field-level before/after. To follow the feed, keep the highest position seen and ask for ?after=<position>; positions grow in commit order.',
      response: { 200: EventPageSchema, ...problemResponses(400) },
    },
  }, async (req) => {
    const { limit: _limit, $top: _top, ...rest } = req.query;
    const page = await services.events.list(req.principal, { limit: pageSizeOf(req.query), ...rest });
    return { items: page.items.map(presentEvent), nextCursor: page.nextCursor, prevCursor: page.prevCursor };
  });

  // Type names and payloads are API documentation, not tenant data: any credential may read them,
  // so a webhook or feed consumer with a narrow scope can discover what it will receive.
  app.get('/v1/event-types', {
    config: { auth: 'authenticated' },
    schema: {
      tags, summary: 'Every event type: the resource it concerns and what its changes carry', response: { 200: EventTypeList },
      operationId: 'listEventTypes', description: 'The catalogue of event types, readable with any credential.',
    },
  }, async () => ({ items: services.events.types() }));
}
