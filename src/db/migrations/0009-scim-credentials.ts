import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../column-types.js';

/**
 * API tokens and API clients get their SCIM settings (domain/principal.ts `ScimSettings`): the
 * externalIds origin a SCIM client writes, whether it sees only what it provisioned, and what its
 * DELETE of a user does. Nullable: existing credentials, and new ones that send nothing, get the
 * defaults when they hold the `scim` scope. Listed here, not derived from the domain, so this
 * migration does the same thing forever.
 */
export function scimCredentialsMigration(dialect: Dialect): Migration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const table of ['api_tokens', 'api_clients']) {
        // One column per statement: SQLite's ALTER TABLE adds one column at a time.
        for (const column of ['scim_origin', 'scim_owns', 'scim_on_delete']) {
          await db.schema.alterTable(table).addColumn(column, t.text).execute();
        }
      }
    },
  };
}
