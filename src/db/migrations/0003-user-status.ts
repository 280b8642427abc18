import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The lifecycle renamed `inactive` to `suspended` (src/domain/user-lifecycle.ts): stored users
 * move to the new name. The state itself does not change, so neither do version, updated_at or
 * the event trail (past events keep the name they were written with); clients may still send
 * `inactive` for one release, and it is stored as `suspended`.
 */
export function userStatusMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await sql`update users set status = ${'suspended'} where status = ${'inactive'}`.execute(db);
    },
  };
}
