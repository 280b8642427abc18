import { AppError } from '../errors/app-error.js';
import type { ErrorCode } from '../errors/error-codes.js';

/**
 * The one place where database constraint violations become API errors. Each entry names the
 * PostgreSQL constraint/index and the column list SQLite reports for the same constraint.
 */
const UNIQUE_CONSTRAINTS: { pg: string; sqlite: string; code: ErrorCode; detail: string }[] = [
  { pg: 'users_tenant_username_uq', sqlite: 'users.tenant_id, users.user_name_lower', code: 'user.username_taken', detail: 'Another user in this tenant already has this userName.' },
  { pg: 'user_external_ids_pk', sqlite: 'user_external_ids.tenant_id, user_external_ids.origin, user_external_ids.key', code: 'user.external_id_taken', detail: 'This {origin, key} external id already belongs to another user.' },
  { pg: 'roles_name_uq', sqlite: 'roles.tenant_id, roles.name_lower', code: 'role.name_taken', detail: 'Another role in this tenant already has this name.' },
  { pg: 'groups_name_uq', sqlite: 'groups.tenant_id, groups.name_lower', code: 'group.name_taken', detail: 'Another group in this tenant already has this name.' },
  { pg: 'group_external_ids_pk', sqlite: 'group_external_ids.tenant_id, group_external_ids.origin, group_external_ids.key', code: 'group.external_id_taken', detail: 'This {origin, key} external id already belongs to another group.' },
  { pg: 'organizations_code_uq', sqlite: 'organizations.tenant_id, organizations.code_lower', code: 'organization.code_taken', detail: 'Another organization in this tenant already has this code.' },
  { pg: 'environments_name_uq', sqlite: 'environments.tenant_id, environments.name_lower', code: 'environment.name_taken', detail: 'Another environment in this tenant already has this name.' },
  { pg: 'identity_providers_alias_uq', sqlite: 'identity_providers.tenant_id, identity_providers.alias_lower', code: 'identity_provider.alias_taken', detail: 'Another identity provider in this tenant already has this alias.' },
  { pg: 'identification_types_code_uq', sqlite: 'identification_types.tenant_id, identification_types.code_lower', code: 'identification_type.code_taken', detail: 'Another identification type in this tenant already has this code.' },
  { pg: 'attribute_definitions_name_uq', sqlite: 'attribute_definitions.tenant_id, attribute_definitions.name', code: 'attribute_definition.name_taken', detail: 'An attribute with this name is already defined in this tenant.' },
  { pg: 'user_identities_subject_uq', sqlite: 'user_identities.provider_id, user_identities.subject', code: 'identity.subject_taken', detail: 'This subject of the identity provider is already linked to a user.' },
  { pg: 'tenants_pkey', sqlite: 'tenants.id', code: 'tenant.id_taken', detail: 'A tenant with this id already exists.' },
  { pg: 'api_clients_client_id_uq', sqlite: 'api_clients.client_id', code: 'client.id_taken', detail: 'An API client with this clientId already exists.' },
];

interface DriverError {
  code?: unknown;
  constraint?: unknown;
  message?: unknown;
}

/** Returns the AppError for a known constraint violation, or undefined to let the error propagate. */
export function mapConstraintError(error: unknown): AppError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as DriverError;
  const message = typeof e.message === 'string' ? e.message : '';
  if (e.code === '23505' && typeof e.constraint === 'string') {
    const hit = UNIQUE_CONSTRAINTS.find((c) => c.pg === e.constraint);
    return hit && new AppError(hit.code, hit.detail);
  }
  // A reference vanished between our check and the write (a concurrent delete).
  if (e.code === '23503' || e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new AppError('request.reference_missing', 'Something this request refers to was deleted concurrently; retry the request.');
  }
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const columns = message.replace(/^.*constraint failed: /, '');
    const hit = UNIQUE_CONSTRAINTS.find((c) => c.sqlite === columns);
    return hit && new AppError(hit.code, hit.detail);
  }
  return undefined;
}

export function isUniqueViolation(error: unknown): boolean {
  const code = (error as DriverError | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
