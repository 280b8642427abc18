import type { Principal, Scope } from '../domain/principal.js';
import type { QueryPart } from '../errors/query-error.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call: a scope the credential must hold, any valid credential, or anyone. */
    auth?: Scope | 'authenticated' | 'public';
    /** POST routes that honour the Idempotency-Key header. */
    idempotent?: boolean;
    /** Routes with list queries: each query part's parameter name in errors (see odata-query.ts). */
    queryParameters?: Readonly<Record<QueryPart, string>>;
    /** The media types the route takes for a body (input-guard.ts); default JSON, and on PATCH also merge-patch+json. */
    bodyTypes?: readonly string[];
  }
  interface FastifyRequest {
    principal: Principal;
    idempotencyKey: string | undefined;
  }
}
