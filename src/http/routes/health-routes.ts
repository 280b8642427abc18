import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Services } from '../../services/container.js';

export function registerHealthRoutes(app: FastifyInstance, services: Services): void {
  app.get('/healthz', {
    config: { auth: 'public' },
    logLevel: 'warn',
    schema: { tags: ['Health'], summary: 'The process is up', response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', {
    config: { auth: 'public' },
    logLevel: 'warn',
    schema: { tags: ['Health'], summary: 'The database is reachable', response: { 200: Type.Object({ status: Type.Literal('ready'), database: Type.String() }) } },
  }, async () => ({ status: 'ready' as const, ...(await services.health.readiness()) }));
}
