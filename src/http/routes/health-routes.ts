import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors/app-error.js';
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
  }, async () => {
    try {
      await services.store.ping();
    } catch {
      throw new AppError('internal.unavailable', 'The database is not reachable.');
    }
    return { status: 'ready' as const, database: services.store.dialect };
  });
}
