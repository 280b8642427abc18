import type { Principal, Scope } from '../domain/principal.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call: a scope the credential must hold, any valid credential, or anyone. */
    auth?: Scope | 'authenticated' | 'public';
    /** POST routes that honour the Idempotency-Key header. */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    principal: Principal;
    idempotencyKey: string | undefined;
  }
}
