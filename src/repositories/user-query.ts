import { sql } from 'kysely';
import { USER_STATUSES } from '../domain/user.js';
import type { FilterSchema } from '../filter/filter-schema.js';
import type { SortableField } from '../filter/orderby-parser.js';

/**
 * The whitelist of what `$filter` and `$orderby` may touch on users, and the column behind each
 * public name. Nothing outside these maps can reach SQL. userName and email compare through
 * their lowercased copies, so case-insensitive lookups use the plain (tenant_id, x_lower) indexes.
 */
export const USER_FILTER_SCHEMA: FilterSchema = {
  fields: {
    id: { column: 'users.id', type: 'uuid' },
    userName: { column: 'users.user_name_lower', type: 'string', caseInsensitive: true },
    email: { column: 'users.email_lower', type: 'string', caseInsensitive: true },
    givenName: { column: 'users.given_name', type: 'string' },
    familyName: { column: 'users.family_name', type: 'string' },
    displayName: { column: 'users.display_name', type: 'string' },
    title: { column: 'users.title', type: 'string' },
    department: { column: 'users.department', type: 'string' },
    employeeId: { column: 'users.employee_id', type: 'string' },
    employmentType: { column: 'users.employment_type', type: 'string' },
    costCenter: { column: 'users.cost_center', type: 'string' },
    phone: { column: 'users.phone', type: 'string' },
    country: { column: 'users.country', type: 'string' },
    locale: { column: 'users.locale', type: 'string' },
    managerId: { column: 'users.manager_id', type: 'uuid' },
    positionId: { column: 'users.position_id', type: 'uuid' },
    areaId: { column: 'users.area_id', type: 'uuid' },
    preventDeprovision: { column: 'users.prevent_deprovision', type: 'boolean' },
    status: { column: 'users.status', type: 'enum', enumValues: USER_STATUSES },
    createdAt: { column: 'users.created_at', type: 'datetime' },
    updatedAt: { column: 'users.updated_at', type: 'datetime' },
    lastLoginAt: { column: 'users.last_login_at', type: 'datetime' },
    attributes: { kind: 'jsonObject', column: 'users.attributes' },
    tags: { kind: 'jsonArray', column: 'users.tags', elementType: 'string' },
    externalIds: {
      kind: 'collection',
      source: sql`user_external_ids as e`,
      correlate: sql`e.user_id = users.id`,
      fields: { origin: { column: 'e.origin', type: 'string' }, key: { column: 'e.key', type: 'string' } },
    },
  },
};

export const USER_SORTABLE: Record<string, SortableField> = {
  userName: { column: 'users.user_name_lower', type: 'string', nullable: false },
  email: { column: 'users.email_lower', type: 'string' },
  givenName: { column: 'users.given_name', type: 'string' },
  familyName: { column: 'users.family_name', type: 'string' },
  displayName: { column: 'users.display_name', type: 'string', nullable: false },
  title: { column: 'users.title', type: 'string' },
  department: { column: 'users.department', type: 'string' },
  employeeId: { column: 'users.employee_id', type: 'string' },
  country: { column: 'users.country', type: 'string' },
  status: { column: 'users.status', type: 'string', nullable: false },
  createdAt: { column: 'users.created_at', type: 'datetime', nullable: false },
  updatedAt: { column: 'users.updated_at', type: 'datetime', nullable: false },
  lastLoginAt: { column: 'users.last_login_at', type: 'datetime' },
};
