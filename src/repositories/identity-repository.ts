import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { IdentityLink } from '../domain/membership.js';
import type { User } from '../domain/user.js';
import { namingValues } from '../db/constraint-errors.js';
import { toUser } from './user-repository.js';

/** Identity links (user_identities): a user's account at an identity provider. */
export class IdentityRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** The provider's name and alias, when it exists in the tenant. */
  async findProvider(tenantId: string, providerId: string): Promise<{ id: string; name: string; alias: string } | undefined> {
    return this.db.selectFrom('identity_providers').select(['id', 'name', 'alias']).where('tenant_id', '=', tenantId).where('id', '=', providerId).executeTakeFirst();
  }

  /** The user's links, oldest first (ids are time-ordered). */
  async listByUser(tenantId: string, userId: string): Promise<IdentityLink[]> {
    const rows = await this.linkQuery(tenantId).where('ui.user_id', '=', userId).orderBy('ui.id').execute();
    return rows.map(toLink);
  }

  /** Every link to one provider (for the events when the provider is deleted). */
  async listByProvider(tenantId: string, providerId: string): Promise<IdentityLink[]> {
    const rows = await this.linkQuery(tenantId).where('ui.provider_id', '=', providerId).orderBy('ui.id').execute();
    return rows.map(toLink);
  }

  async findById(tenantId: string, userId: string, id: string): Promise<IdentityLink | undefined> {
    const row = await this.linkQuery(tenantId).where('ui.user_id', '=', userId).where('ui.id', '=', id).executeTakeFirst();
    return row && toLink(row);
  }

  /** (provider, subject) is unique: a second link of the same subject fails with identity.subject_taken. */
  async insert(link: IdentityLink): Promise<void> {
    await this.db
      .insertInto('user_identities')
      .values({ id: link.id, tenant_id: link.tenantId, user_id: link.userId, provider_id: link.providerId, subject: link.subject, user_name: link.userName, created_at: link.createdAt })
      .execute()
      .catch(namingValues(link));
  }

  async delete(tenantId: string, userId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('user_identities').where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** The user linked to `subject` at the provider. */
  async findUserBySubject(tenantId: string, providerId: string, subject: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('user_identities as ui')
      .innerJoin('users', 'users.id', 'ui.user_id')
      .selectAll('users')
      .where('ui.tenant_id', '=', tenantId)
      .where('ui.provider_id', '=', providerId)
      .where('ui.subject', '=', subject)
      .executeTakeFirst();
    return row && toUser(row);
  }

  private linkQuery(tenantId: string) {
    return this.db
      .selectFrom('user_identities as ui')
      .innerJoin('identity_providers as p', 'p.id', 'ui.provider_id')
      .select(['ui.id', 'ui.tenant_id', 'ui.user_id', 'ui.provider_id', 'ui.subject', 'ui.user_name', 'ui.created_at', 'p.name as provider_name', 'p.alias as provider_alias'])
      .where('ui.tenant_id', '=', tenantId);
  }
}

function toLink(row: {
  id: string; tenant_id: string; user_id: string; provider_id: string; subject: string; user_name: string | null; created_at: string; provider_name: string; provider_alias: string;
}): IdentityLink {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    userId: row.user_id,
    providerId: row.provider_id,
    providerName: row.provider_name,
    providerAlias: row.provider_alias,
    subject: row.subject,
    userName: row.user_name,
    createdAt: row.created_at,
  };
}
