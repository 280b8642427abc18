import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { systemPrincipal, type Principal } from '../../src/domain/principal.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { TestClock } from './test-app.js';
import { createTestDatabase, testDialect } from './test-database.js';

/** A Roster runtime (real database, real services) without HTTP, for the service tier. */
export interface ServiceRuntime {
  runtime: Runtime;
  clock: TestClock;
  dialect: 'sqlite' | 'postgres';
  /** An API-client principal of the default tenant with every scope. */
  principal: Principal;
}

/** One runtime on a fresh database per test file, closed (and the database dropped) after it. */
export function useServiceRuntime(ready: (s: ServiceRuntime) => void): void {
  let drop: (() => Promise<void>) | undefined;
  let runtime: Runtime | undefined;
  beforeAll(async () => {
    const database = await createTestDatabase();
    drop = database.drop;
    const clock = new TestClock();
    runtime = await openRuntime(loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent', ROSTER_ISSUER: 'http://roster.test' }), { clock });
    await runtime.services.clients.bootstrap({ clientId: 'svc-admin', clientSecret: 'svc-admin-secret-0123456789' });
    const principal: Principal = { ...systemPrincipal('default', 'test'), actorType: 'client', actorId: 'svc-admin' };
    ready({ runtime, clock, dialect: testDialect(), principal });
  });
  afterAll(async () => {
    await runtime?.close();
    await drop?.();
  });
}
