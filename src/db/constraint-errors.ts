import { AppError } from '../errors/app-error.js';
import type { ErrorCode } from '../errors/error-codes.js';

/**
 * The one place where database constraint violations become API errors. Each entry names the
 * PostgreSQL constraint/index and the column list SQLite reports for the same constraint.
 */
const UNIQUE_CONSTRAINTS: { pg: string; sqlite: string; code: ErrorCode; detail: string }[] = [
  { pg: 'users_tenant_username_uq', sqlite: 'users.tenant_id, users.user_name_lower', code: 'user.username_taken', detail: 'Another user in this tenant already has this userName.' },
  { pg: 'user_external_ids_pk', sqlite: 'user_external_ids.tenant_id, user_external_ids.origin, user_external_ids.key', code: 'user.external_id_taken', detail: 'This {origin, key} external id already belongs to another user.' },
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
