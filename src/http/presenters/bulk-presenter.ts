import type { Static } from '@sinclair/typebox';
import type { AppError } from '../../errors/app-error.js';
import type { BulkDisableResult, BulkUpsertResult } from '../../domain/bulk-upsert.js';
import type { BulkDisableResponse, BulkUpsertResponse, BulkRowResultSchema } from '../schemas/bulk-schemas.js';
import type { BulkDisableBody } from '../schemas/bulk-schemas.js';

type RowProblem = NonNullable<Static<typeof BulkRowResultSchema>['error']>;

/**
 * A row's error as a problem object (RFC 9457). Commands name fields as `/body/<field>`; in a
 * bulk answer they point into the request instead (`/users/3/email`), so a client can find the
 * value it sent.
 */
export function rowProblem(error: AppError, index: number, requestId: string): RowProblem {
  const problem: RowProblem = {
    type: `https://roster.dev/errors/${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
    requestId,
  };
  const errors = error.errors?.map((e) => ({ field: e.field.replace(/^\/body(?=\/|$)/, `/users/${index}`), message: e.message }));
  if (errors && errors.length > 0) problem.errors = errors;
  return problem;
}

export function presentBulkUpsert(result: BulkUpsertResult, keys: readonly string[], requestId: string): BulkUpsertResponse {
  return {
    added: result.added,
    updated: result.updated,
    unchanged: result.unchanged,
    errors: result.errors,
    dryRun: result.dryRun,
    users: result.rows.map((row) =>
      row.status === 'error'
        ? { key: keys[row.index] as string, id: row.id, status: row.status, error: rowProblem(row.error, row.index, requestId) }
        : { key: keys[row.index] as string, id: row.id, status: row.status },
    ),
  };
}

export function presentBulkDisable(result: BulkDisableResult, targets: BulkDisableBody['users'], requestId: string): BulkDisableResponse {
  return {
    disabled: result.disabled,
    unchanged: result.unchanged,
    errors: result.errors,
    dryRun: result.dryRun,
    users: result.rows.map((row) => {
      const target = targets[row.index] as BulkDisableBody['users'][number];
      const named = 'origin' in target ? { origin: target.origin, key: target.key } : {};
      return row.status === 'error'
        ? { id: row.id, ...named, status: row.status, error: rowProblem(row.error, row.index, requestId) }
        : { id: row.id, ...named, status: row.status };
    }),
  };
}
