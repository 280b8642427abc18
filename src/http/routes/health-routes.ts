import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Services } from '../../services/container.js';

export function registerHealthRoutes(app: FastifyInstance, services: Services): void {
  app.get('/healthz', {
    config: { auth: 'public' },
    logLevel: 'warn',
    schema: {
      tags: ['Health'], summary: 'The process is up', response: { 200: Type.Object({ status: Type.Literal('ok') }, { 'x-component': 'Health' }) },
      operationId: 'getHealth', description: 'Liveness: answers while the process runs, without touching the database.',
    },
  }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', {
    config: { auth: 'public' },
    logLevel: 'warn',
    schema: {
      tags: ['Health'], summary: 'The database is reachable', response: { 200: Type.Object({ status: Type.Literal('ready'), database: Type.String() }, { 'x-component': 'Readiness' }) },
      operationId: 'getReadiness', description: 'Readiness: 200 when the database answers, 503 when it does not.',
    },
  }, async () => ({ status: 'ready' as const, ...(await services.health.readiness()) }));
}
