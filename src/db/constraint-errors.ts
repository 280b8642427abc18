import { AppError } from '../errors/app-error.js';
import type { ErrorCode } from '../errors/error-codes.js';

/**
 * The one place where database constraint violations become API errors. Each entry names the
 * PostgreSQL constraint/index, the column list SQLite reports for the same constraint, and the
 * field of the written record (as the API names it) whose value was taken, so the 409 can say
 * which value of which field conflicts.
 */
const UNIQUE_CONSTRAINTS: { pg: string; sqlite: string; code: ErrorCode; field: string; owner: string }[] = [
  { pg: 'users_tenant_username_uq', sqlite: 'users.tenant_id, users.user_name_lower', code: 'user.username_taken', field: 'userName', owner: 'Another user in this tenant' },
  { pg: 'user_external_ids_pk', sqlite: 'user_external_ids.tenant_id, user_external_ids.origin, user_external_ids.key', code: 'user.external_id_taken', field: 'externalIds', owner: 'Another user in this tenant' },
  { pg: 'roles_name_uq', sqlite: 'roles.tenant_id, roles.name_lower', code: 'role.name_taken', field: 'name', owner: 'Another role in this tenant' },
  { pg: 'groups_name_uq', sqlite: 'groups.tenant_id, groups.name_lower', code: 'group.name_taken', field: 'name', owner: 'Another group in this tenant' },
  { pg: 'group_external_ids_pk', sqlite: 'group_external_ids.tenant_id, group_external_ids.origin, group_external_ids.key', code: 'group.external_id_taken', field: 'externalIds', owner: 'Another group in this tenant' },
  { pg: 'organizations_code_uq', sqlite: 'organizations.tenant_id, organizations.code_lower', code: 'organization.code_taken', field: 'code', owner: 'Another organization in this tenant' },
  { pg: 'environments_name_uq', sqlite: 'environments.tenant_id, environments.name_lower', code: 'environment.name_taken', field: 'name', owner: 'Another environment in this tenant' },
  { pg: 'identity_providers_alias_uq', sqlite: 'identity_providers.tenant_id, identity_providers.alias_lower', code: 'identity_provider.alias_taken', field: 'alias', owner: 'Another identity provider in this tenant' },
  { pg: 'identification_types_code_uq', sqlite: 'identification_types.tenant_id, identification_types.code_lower', code: 'identification_type.code_taken', field: 'code', owner: 'Another identification type in this tenant' },
  { pg: 'attribute_definitions_name_uq', sqlite: 'attribute_definitions.tenant_id, attribute_definitions.name', code: 'attribute_definition.name_taken', field: 'name', owner: 'Another attribute definition in this tenant' },
  { pg: 'user_identities_subject_uq', sqlite: 'user_identities.provider_id, user_identities.subject', code: 'identity.subject_taken', field: 'subject', owner: 'Another user linked to this identity provider' },
  { pg: 'tenants_pkey', sqlite: 'tenants.id', code: 'tenant.id_taken', field: 'id', owner: 'Another tenant' },
  { pg: 'api_clients_client_id_uq', sqlite: 'api_clients.client_id', code: 'client.id_taken', field: 'clientId', owner: 'Another API client' },
];

/** How values are compared for uniqueness, said once in every 409 about a name or code. */
const COMPARED = '(compared ignoring case, width and Unicode normalization form)';

/**
 * The 409 of a unique value already taken, naming the field as the API names it and the value
 * as the client sent it (`index`: the position in a list field such as externalIds).
 */
export function takenError(code: ErrorCode, owner: string, field: string, value: unknown, index?: number): AppError {
  const pointer = `/body/${field}${index === undefined ? '' : `/${index}`}`;
  if (isExternalId(value)) {
    const shown = `{origin: ${JSON.stringify(value.origin)}, key: ${JSON.stringify(value.key)}}`;
    return new AppError(code, `${owner} already has the external id ${shown} ${COMPARED}.`, [{ field: pointer, message: `${shown} is already taken` }]);
  }
  if (typeof value === 'string') {
    const exact = field === 'name' && code === 'attribute_definition.name_taken' ? '' : ` ${COMPARED}`;
    return new AppError(code, `${owner} already has the ${field} ${JSON.stringify(value)}${exact}.`, [{ field: pointer, message: `${JSON.stringify(value)} is already taken` }]);
  }
  return new AppError(code, `${owner} already has this ${field}.`, [{ field: pointer, message: 'is already taken' }]);
}

const isExternalId = (value: unknown): value is { origin: string; key: string } =>
  typeof value === 'object' && value !== null && typeof (value as { origin?: unknown }).origin === 'string' && typeof (value as { key?: unknown }).key === 'string';

interface DriverError {
  code?: unknown;
  constraint?: unknown;
  message?: unknown;
}

/**
 * Returns the AppError for a known constraint violation, or undefined to let the error propagate.
 * `written` is the record the failed statement wrote, when the caller knows it: the 409 then
 * quotes its value of the conflicting field (a list field such as externalIds is named whole:
 * which entry conflicts is checked before writing, see the repositories).
 */
export function mapConstraintError(error: unknown, written?: Readonly<Record<string, unknown>>): AppError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as DriverError;
  const message = typeof e.message === 'string' ? e.message : '';
  if (e.code === '23505' && typeof e.constraint === 'string') {
    const hit = UNIQUE_CONSTRAINTS.find((c) => c.pg === e.constraint);
    return hit && taken(hit, written);
  }
  // A reference vanished between our check and the write (a concurrent delete).
  if (e.code === '23503' || e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new AppError('request.reference_missing', 'Something this request refers to was deleted concurrently; retry the request.');
  }
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const columns = message.replace(/^.*constraint failed: /, '');
    const hit = UNIQUE_CONSTRAINTS.find((c) => c.sqlite === columns);
    return hit && taken(hit, written);
  }
  return undefined;
}

export function isUniqueViolation(error: unknown): boolean {
  const code = (error as DriverError | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

function taken(hit: (typeof UNIQUE_CONSTRAINTS)[number], written: Readonly<Record<string, unknown>> | undefined): AppError {
  const value = written?.[hit.field];
  return takenError(hit.code, hit.owner, hit.field, Array.isArray(value) ? undefined : value);
}

/**
 * For `.catch()` on a write: a unique violation becomes the 409 that quotes the written record's
 * value of the conflicting field; any other error is rethrown unchanged.
 */
export const namingValues = (written: object) => (error: unknown): never => {
  throw mapConstraintError(error, written as Readonly<Record<string, unknown>>) ?? error;
};
