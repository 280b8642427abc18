import { AppError } from '../errors/app-error.js';

/**
 * The page size of a list that used to take `limit`: `$top`, or `limit` (its deprecated alias,
 * kept for one release). Both at once is a 400, even when equal: one of them would be ignored.
 */
export function pageSizeOf(query: { $top?: number | undefined; limit?: number | undefined }): number | undefined {
  if (query.$top !== undefined && query.limit !== undefined) {
    throw new AppError('request.validation_failed', 'Send $top or limit (its deprecated alias), not both.', [
      { field: '/querystring/limit', message: 'is a deprecated alias of $top; send only $top' },
    ]);
  }
  return query.$top ?? query.limit;
}
