import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.js';
import { sha256 } from '../lib/secrets.js';
import { stableStringify } from '../lib/stable-json.js';
import type { IdempotencyService } from '../services/idempotency-service.js';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const REPLAYED_HEADERS = ['location', 'etag', 'content-type'];

/**
 * Idempotency-Key on POST routes that opt in with `config.idempotent` (behaviour: see
 * IdempotencyService). The claim a request holds is remembered until its response is stored.
 */
export function registerIdempotency(app: FastifyInstance, idempotency: IdempotencyService): void {
  const claims = new WeakMap<FastifyRequest, string>();
  app.decorateRequest('idempotencyKey', undefined);

  app.addHook('preHandler', async (request, reply) => {
    if (!request.routeOptions.config.idempotent) return;
    const header = request.headers['idempotency-key'];
    if (header === undefined) return;
    if (typeof header !== 'string' || !KEY_PATTERN.test(header)) {
      throw new AppError('idempotency.invalid_key', 'Idempotency-Key must be 1–255 visible ASCII characters, sent once.');
    }
    const fingerprint = sha256(`${request.method} ${request.url}\n${stableStringify(request.body ?? null)}`);
    const decision = await idempotency.begin(request.principal, header, fingerprint);
    if (decision.kind === 'replay') {
      return reply.code(decision.statusCode).headers({ ...decision.headers, 'idempotent-replayed': 'true' }).send(decision.body);
    }
    request.idempotencyKey = header;
    claims.set(request, decision.claimedAt);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const key = request.idempotencyKey;
    const claimedAt = claims.get(request);
    if (key === undefined || claimedAt === undefined) return payload;
    request.idempotencyKey = undefined;
    claims.delete(request);
    if (reply.statusCode >= 500) {
      await idempotency.release(request.principal, key, claimedAt);
      return payload;
    }
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) {
      const value = reply.getHeader(name);
      if (value !== undefined) headers[name] = String(value);
    }
    await idempotency.complete(request.principal, key, claimedAt, reply.statusCode, headers, typeof payload === 'string' ? payload : String(payload ?? ''));
    return payload;
  });
}
