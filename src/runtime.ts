import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { migrateToLatest } from './db/migrator.js';
import { systemClock, type Clock } from './lib/clock.js';
import { argon2Hasher, type SecretHasher } from './lib/secrets.js';
import { createStore } from './repositories/store.js';
import { createServices, type Services } from './services/container.js';

export interface Runtime {
  database: Database;
  services: Services;
  close(): Promise<void>;
}

/**
 * The composition root shared by the server, the CLI and the tests: open the database, bring
 * its schema up to date, wire repositories and services.
 */
export async function openRuntime(config: Config, overrides: { clock?: Clock; hasher?: SecretHasher } = {}): Promise<Runtime> {
  const database = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(database.db as never, database.dialect);
  } catch (error) {
    await database.close();
    throw error;
  }
  const services = createServices({
    store: createStore(database),
    clock: overrides.clock ?? systemClock,
    hasher: overrides.hasher ?? argon2Hasher,
    config,
  });
  return { database, services, close: () => database.close() };
}
