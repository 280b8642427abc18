import { defineConfig } from 'vitest/config';

/**
 * The API suite (test/api) and the service tier (test/service: commands, job runner, event
 * ordering against a real database with side effects replaced) run once per database, the same
 * test code each time (as Kysely's own suite does): `sqlite` always, `postgres` when
 * TEST_DATABASE_URL points at a server. CI sets it and refuses to run without it; locally a
 * missing URL skips PostgreSQL with one clear line. test/unit holds tests without a server.
 */
const pgUrl = process.env.TEST_DATABASE_URL;
if (!pgUrl) {
  if (process.env.CI) throw new Error('CI must run the PostgreSQL tests: set TEST_DATABASE_URL (see .ci/run).');
  console.log('PostgreSQL tests skipped: set TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres to run them too.');
}

const perDatabase = ['test/api/**/*.test.ts', 'test/service/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'sqlite', include: perDatabase, env: { TEST_DIALECT: 'sqlite' } } },
      ...(pgUrl ? [{ extends: true as const, test: { name: 'postgres', include: perDatabase, env: { TEST_DIALECT: 'postgres' } } }] : []),
    ],
  },
});
