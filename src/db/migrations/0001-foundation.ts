import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../column-types.js';

/** Tenants, credentials, signing keys, users with external ids, the event trail, idempotency. */
export function foundationMigration(dialect: Dialect): Migration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('tenants')
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('name', t.text, (c) => c.notNull())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('api_clients')
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('client_id', t.text, (c) => c.notNull())
        .addColumn('name', t.text, (c) => c.notNull())
        .addColumn('secret_hash', t.text, (c) => c.notNull())
        .addColumn('scopes', t.text, (c) => c.notNull())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('api_clients_client_id_uq').on('api_clients').column('client_id').unique().execute();
      await db.schema.createIndex('api_clients_tenant_ix').on('api_clients').columns(['tenant_id', 'id']).execute();

      await db.schema
        .createTable('api_tokens')
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('name', t.text, (c) => c.notNull())
        .addColumn('token_hash', t.text, (c) => c.notNull())
        .addColumn('token_prefix', t.text, (c) => c.notNull())
        .addColumn('scopes', t.text, (c) => c.notNull())
        .addColumn('created_by', t.text, (c) => c.notNull())
        .addColumn('expires_at', t.timestamp)
        .addColumn('last_used_at', t.timestamp)
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('api_tokens_hash_uq').on('api_tokens').column('token_hash').unique().execute();
      await db.schema.createIndex('api_tokens_tenant_ix').on('api_tokens').columns(['tenant_id', 'id']).execute();

      await db.schema
        .createTable('refresh_tokens')
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('client_ref', t.text, (c) => c.notNull().references('api_clients.id').onDelete('cascade'))
        .addColumn('family_id', t.text, (c) => c.notNull())
        .addColumn('token_hash', t.text, (c) => c.notNull())
        .addColumn('scopes', t.text, (c) => c.notNull())
        .addColumn('expires_at', t.timestamp, (c) => c.notNull())
        .addColumn('used_at', t.timestamp)
        .addColumn('revoked_at', t.timestamp)
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('refresh_tokens_hash_uq').on('refresh_tokens').column('token_hash').unique().execute();
      await db.schema.createIndex('refresh_tokens_family_ix').on('refresh_tokens').column('family_id').execute();
      await db.schema.createIndex('refresh_tokens_client_ix').on('refresh_tokens').column('client_ref').execute();

      await db.schema
        .createTable('revoked_access_tokens')
        .addColumn('jti', t.text, (c) => c.primaryKey())
        .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('expires_at', t.timestamp, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', t.text, (c) => c.primaryKey())
        .addColumn('alg', t.text, (c) => c.notNull())
        .addColumn('public_jwk', t.text, (c) => c.notNull())
        .addColumn('private_jwk', t.text, (c) => c.notNull())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('retired_at', t.timestamp)
        .execute();

      await db.schema
        .createTable('users')
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('user_name', t.text, (c) => c.notNull())
        .addColumn('user_name_lower', t.text, (c) => c.notNull())
        .addColumn('email', t.text)
        .addColumn('email_lower', t.text)
        .addColumn('given_name', t.text)
        .addColumn('family_name', t.text)
        .addColumn('display_name', t.text, (c) => c.notNull())
        .addColumn('title', t.text)
        .addColumn('department', t.text)
        .addColumn('employee_id', t.text)
        .addColumn('employment_type', t.text)
        .addColumn('cost_center', t.text)
        .addColumn('phone', t.text)
        .addColumn('country', t.text)
        .addColumn('locale', t.text)
        .addColumn('manager_id', t.text, (c) => c.references('users.id').onDelete('set null'))
        .addColumn('external_ids', t.json, (c) => c.notNull())
        .addColumn('attributes', t.json, (c) => c.notNull())
        .addColumn('tags', t.json, (c) => c.notNull())
        .addColumn('status', t.text, (c) => c.notNull())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .addColumn('last_login_at', t.timestamp)
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();
      // Every list query is tenant-scoped and pages by (sort key, id): indexes lead with tenant_id.
      await db.schema.createIndex('users_tenant_username_uq').on('users').columns(['tenant_id', 'user_name_lower']).unique().execute();
      await db.schema.createIndex('users_tenant_id_ix').on('users').columns(['tenant_id', 'id']).execute();
      await db.schema.createIndex('users_tenant_email_ix').on('users').columns(['tenant_id', 'email_lower']).execute();
      await db.schema.createIndex('users_tenant_employee_ix').on('users').columns(['tenant_id', 'employee_id']).execute();
      await db.schema.createIndex('users_tenant_status_ix').on('users').columns(['tenant_id', 'status', 'id']).execute();
      await db.schema.createIndex('users_tenant_family_ix').on('users').columns(['tenant_id', 'family_name']).execute();
      await db.schema.createIndex('users_tenant_given_ix').on('users').columns(['tenant_id', 'given_name']).execute();
      await db.schema.createIndex('users_tenant_display_ix').on('users').columns(['tenant_id', 'display_name']).execute();
      await db.schema.createIndex('users_tenant_department_ix').on('users').columns(['tenant_id', 'department']).execute();
      await db.schema.createIndex('users_manager_ix').on('users').columns(['manager_id']).execute();

      await db.schema
        .createTable('user_external_ids')
        .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('origin', t.text, (c) => c.notNull())
        .addColumn('key', t.text, (c) => c.notNull())
        .addColumn('user_id', t.text, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('user_external_ids_pk', ['tenant_id', 'origin', 'key'])
        .execute();
      await db.schema.createIndex('user_external_ids_user_ix').on('user_external_ids').column('user_id').execute();

      await db.schema
        .createTable('events')
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('type', t.text, (c) => c.notNull())
        .addColumn('actor_type', t.text, (c) => c.notNull())
        .addColumn('actor_id', t.text)
        .addColumn('resource_type', t.text, (c) => c.notNull())
        .addColumn('resource_id', t.text, (c) => c.notNull())
        .addColumn('occurred_at', t.timestamp, (c) => c.notNull())
        .addColumn('changes', t.json, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_tenant_ix').on('events').columns(['tenant_id', 'id']).execute();
      await db.schema.createIndex('events_resource_ix').on('events').columns(['tenant_id', 'resource_type', 'resource_id', 'id']).execute();

      await db.schema
        .createTable('idempotency_keys')
        .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('actor_id', t.text, (c) => c.notNull())
        .addColumn('key', t.text, (c) => c.notNull())
        .addColumn('fingerprint', t.text, (c) => c.notNull())
        .addColumn('state', t.text, (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('response_headers', t.json)
        .addColumn('response_body', t.text)
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('expires_at', t.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['tenant_id', 'actor_id', 'key'])
        .execute();
      await db.schema.createIndex('idempotency_keys_expiry_ix').on('idempotency_keys').column('expires_at').execute();
    },
  };
}
