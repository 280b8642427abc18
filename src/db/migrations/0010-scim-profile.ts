import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../column-types.js';

/**
 * SCIM 2.0 (RFC 7643) describes people with more than Roster stored:
 * - users gain the singular core and enterprise attributes that had no column (`nick_name`,
 *   `profile_url`, `preferred_language`, `timezone`, `organization`, `division`; `userType` is
 *   the employment type Roster already had);
 * - `profile` (JSON object) keeps what has no column of its own, as sent: the name parts beyond
 *   given and family name, and the multi-valued attributes (emails, phoneNumbers, ims, photos,
 *   addresses, entitlements, roles, x509Certificates);
 * - `provisioned_by` on users and groups: the SCIM origin that created the record, which an
 *   `owns: "own"` credential is limited to;
 * - `password_hash`: an argon2id hash (PHC string), never returned.
 * All nullable or defaulted, so existing rows need no rewrite.
 */
export function scimProfileMigration(dialect: Dialect): Migration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const column of ['nick_name', 'profile_url', 'preferred_language', 'timezone', 'organization', 'division', 'provisioned_by', 'password_hash']) {
        await db.schema.alterTable('users').addColumn(column, t.text).execute();
      }
      await db.schema
        .alterTable('users')
        .addColumn('profile', t.json, (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema.alterTable('groups').addColumn('provisioned_by', t.text).execute();
    },
  };
}
