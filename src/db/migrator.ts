import { Migrator, type Kysely, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import type { Dialect } from './database.js';
import { foundationMigration } from './migrations/0001-foundation.js';
import { directoryMigration } from './migrations/0002-directory.js';
import { userStatusMigration } from './migrations/0003-user-status.js';
import { jobsMigration } from './migrations/0004-jobs.js';
import { eventPositionsMigration } from './migrations/0005-event-positions.js';
import { identifierKeysMigration } from './migrations/0006-identifier-keys.js';
import { emailDomainKeysMigration } from './migrations/0007-email-domain-keys.js';
import { dateAttributeValuesMigration } from './migrations/0008-date-attribute-values.js';
import { scimCredentialsMigration } from './migrations/0009-scim-credentials.js';
import { scimProfileMigration } from './migrations/0010-scim-profile.js';
import { syncRunsMigration } from './migrations/0011-sync-runs.js';
import { bulkJobsMigration } from './migrations/0012-bulk-jobs.js';

/**
 * Migrations are code, listed here in order, so the compiled server carries them and no file
 * scanning is needed at start-up. Names sort lexically; never rename or edit one that shipped.
 */
function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001-foundation': foundationMigration(dialect),
    '0002-directory': directoryMigration(dialect),
    '0003-user-status': userStatusMigration(),
    '0004-jobs': jobsMigration(dialect),
    '0005-event-positions': eventPositionsMigration(dialect),
    '0006-identifier-keys': identifierKeysMigration(),
    '0007-email-domain-keys': emailDomainKeysMigration(),
    '0008-date-attribute-values': dateAttributeValuesMigration(),
    '0009-scim-credentials': scimCredentialsMigration(dialect),
    '0010-scim-profile': scimProfileMigration(dialect),
    '0011-sync-runs': syncRunsMigration(dialect),
    '0012-bulk-jobs': bulkJobsMigration(dialect),
  };
}

class CodeMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.dialect);
  }
}

/** Applies every pending migration; Kysely takes a database-wide lock so concurrent starts are safe. */
export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: new CodeMigrationProvider(dialect) });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error;
  return result;
}
