import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../column-types.js';

/**
 * The directory: roles, groups, organizations, environments, positions, areas, identity
 * providers, identification types, attribute definitions; user memberships in them, identity
 * links; and the user columns that point into it.
 */
export function directoryMigration(dialect: Dialect): Migration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // Every directory table shares this frame; `extra` adds the kind's own columns.
      const resource = async (table: string, extra: (b: ReturnType<Kysely<unknown>['schema']['createTable']>) => ReturnType<Kysely<unknown>['schema']['createTable']>) => {
        let builder = db.schema
          .createTable(table)
          .addColumn('id', t.text, (c) => c.primaryKey())
          .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
          .addColumn('name', t.text, (c) => c.notNull())
          .addColumn('name_lower', t.text, (c) => c.notNull());
        builder = extra(builder);
        await builder
          .addColumn('created_at', t.timestamp, (c) => c.notNull())
          .addColumn('updated_at', t.timestamp, (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .execute();
        await db.schema.createIndex(`${table}_tenant_ix`).on(table).columns(['tenant_id', 'id']).execute();
        await db.schema.createIndex(`${table}_tenant_name_ix`).on(table).columns(['tenant_id', 'name_lower']).execute();
      };

      await resource('roles', (b) => b.addColumn('description', t.text).addColumn('weight', 'integer', (c) => c.notNull()).addColumn('permissions', t.json, (c) => c.notNull()));
      await db.schema.createIndex('roles_name_uq').on('roles').columns(['tenant_id', 'name_lower']).unique().execute();

      await resource('groups', (b) => b.addColumn('description', t.text).addColumn('external_ids', t.json, (c) => c.notNull()));
      await db.schema.createIndex('groups_name_uq').on('groups').columns(['tenant_id', 'name_lower']).unique().execute();
      await db.schema
        .createTable('group_external_ids')
        .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('origin', t.text, (c) => c.notNull())
        .addColumn('key', t.text, (c) => c.notNull())
        .addColumn('group_id', t.text, (c) => c.notNull().references('groups.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('group_external_ids_pk', ['tenant_id', 'origin', 'key'])
        .execute();
      await db.schema.createIndex('group_external_ids_group_ix').on('group_external_ids').column('group_id').execute();

      await resource('organizations', (b) =>
        b.addColumn('code', t.text, (c) => c.notNull()).addColumn('code_lower', t.text, (c) => c.notNull()).addColumn('parent_id', t.text, (c) => c.references('organizations.id').onDelete('restrict')),
      );
      await db.schema.createIndex('organizations_code_uq').on('organizations').columns(['tenant_id', 'code_lower']).unique().execute();
      await db.schema.createIndex('organizations_parent_ix').on('organizations').column('parent_id').execute();

      await resource('environments', (b) => b.addColumn('description', t.text));
      await db.schema.createIndex('environments_name_uq').on('environments').columns(['tenant_id', 'name_lower']).unique().execute();

      await resource('areas', (b) => b.addColumn('parent_id', t.text, (c) => c.references('areas.id').onDelete('restrict')));
      await db.schema.createIndex('areas_parent_ix').on('areas').column('parent_id').execute();

      await resource('positions', (b) => b.addColumn('area_id', t.text, (c) => c.references('areas.id').onDelete('restrict')));
      await db.schema.createIndex('positions_area_ix').on('positions').column('area_id').execute();

      await resource('identity_providers', (b) =>
        b
          .addColumn('alias', t.text, (c) => c.notNull())
          .addColumn('alias_lower', t.text, (c) => c.notNull())
          .addColumn('type', t.text, (c) => c.notNull())
          .addColumn('enabled', t.boolean, (c) => c.notNull())
          .addColumn('config', t.json, (c) => c.notNull()),
      );
      await db.schema.createIndex('identity_providers_alias_uq').on('identity_providers').columns(['tenant_id', 'alias_lower']).unique().execute();

      await resource('identification_types', (b) => b.addColumn('code', t.text, (c) => c.notNull()).addColumn('code_lower', t.text, (c) => c.notNull()));
      await db.schema.createIndex('identification_types_code_uq').on('identification_types').columns(['tenant_id', 'code_lower']).unique().execute();

      await resource('attribute_definitions', (b) =>
        b
          .addColumn('type', t.text, (c) => c.notNull())
          .addColumn('required', t.boolean, (c) => c.notNull())
          .addColumn('enum_values', t.json, (c) => c.notNull())
          .addColumn('multi_valued', t.boolean, (c) => c.notNull())
          .addColumn('indexed', t.boolean, (c) => c.notNull()),
      );
      // Attribute names are case-sensitive JSON keys, so uniqueness is on the exact name.
      await db.schema.createIndex('attribute_definitions_name_uq').on('attribute_definitions').columns(['tenant_id', 'name']).unique().execute();

      // Memberships: the user side leads the primary key (a user's list), the other side has an
      // index for reverse views (a group's members), both paged by user id.
      for (const [table, column, target] of [
        ['user_roles', 'role_id', 'roles'],
        ['user_groups', 'group_id', 'groups'],
        ['user_organizations', 'organization_id', 'organizations'],
        ['user_environments', 'environment_id', 'environments'],
      ] as const) {
        let builder = db.schema
          .createTable(table)
          .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
          .addColumn('user_id', t.text, (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn(column, t.text, (c) => c.notNull().references(`${target}.id`).onDelete('cascade'))
          .addColumn('created_at', t.timestamp, (c) => c.notNull());
        if (table === 'user_environments') builder = builder.addColumn('permissions', t.json, (c) => c.notNull());
        await builder.addPrimaryKeyConstraint(`${table}_pk`, ['user_id', column]).execute();
        await db.schema.createIndex(`${table}_reverse_ix`).on(table).columns([column, 'user_id']).execute();
      }

      await db.schema
        .createTable('user_identities')
        .addColumn('id', t.text, (c) => c.primaryKey())
        .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('user_id', t.text, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('provider_id', t.text, (c) => c.notNull().references('identity_providers.id').onDelete('cascade'))
        .addColumn('subject', t.text, (c) => c.notNull())
        .addColumn('user_name', t.text)
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('user_identities_subject_uq').on('user_identities').columns(['provider_id', 'subject']).unique().execute();
      await db.schema.createIndex('user_identities_user_ix').on('user_identities').columns(['user_id']).execute();

      await db.schema.alterTable('users').addColumn('position_id', t.text, (c) => c.references('positions.id').onDelete('restrict')).execute();
      await db.schema.alterTable('users').addColumn('area_id', t.text, (c) => c.references('areas.id').onDelete('restrict')).execute();
      await db.schema
        .alterTable('users')
        .addColumn('prevent_deprovision', t.boolean, (c) => c.notNull().defaultTo(dialect === 'postgres' ? sql`false` : 0))
        .execute();
      await db.schema.alterTable('users').addColumn('identifications', t.json, (c) => c.notNull().defaultTo('[]')).execute();
      await db.schema.createIndex('users_position_ix').on('users').columns(['position_id']).execute();
      await db.schema.createIndex('users_area_ix').on('users').columns(['area_id']).execute();
    },
  };
}
