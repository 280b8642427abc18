/**
 * The one catalogue of error codes. A code is part of the public API: clients branch on it, so
 * codes are never renamed or reused. Add new ones here; the HTTP status and title live with them.
 */
export const errorCatalogue = {
  // Request shape
  'request.validation_failed': { status: 400, title: 'The request is not valid' },
  'request.malformed_json': { status: 400, title: 'The request body is not valid JSON' },
  'request.body_too_large': { status: 413, title: 'The request body is too large' },
  'request.unsupported_media_type': { status: 415, title: 'Unsupported content type' },
  'request.invalid_filter': { status: 400, title: 'The $filter expression is not valid' },
  'request.invalid_orderby': { status: 400, title: 'The $orderby expression is not valid' },
  'request.invalid_select': { status: 400, title: 'The $select expression is not valid' },
  'request.invalid_expand': { status: 400, title: 'The $expand expression is not valid' },
  'request.invalid_cursor': { status: 400, title: 'The paging cursor is not valid' },
  'request.invalid_paging': { status: 400, title: 'The paging parameters are not valid' },
  'request.precondition_failed': { status: 412, title: 'The resource has changed (If-Match did not match)' },
  'request.route_not_found': { status: 404, title: 'No such route' },
  'request.reference_missing': { status: 409, title: 'A resource this request refers to no longer exists' },
  'request.rate_limited': { status: 429, title: 'Too many requests' },

  // Authentication and authorisation
  'auth.missing_token': { status: 401, title: 'Authentication is required' },
  'auth.invalid_token': { status: 401, title: 'The access token is not valid' },
  'auth.insufficient_scope': { status: 403, title: 'The token lacks a required scope' },
  'auth.forbidden': { status: 403, title: 'This credential may not perform the operation' },

  // Idempotency
  'idempotency.key_reused': { status: 422, title: 'The Idempotency-Key was already used with another request' },
  'idempotency.in_progress': { status: 409, title: 'A request with this Idempotency-Key is still in progress' },
  'idempotency.invalid_key': { status: 400, title: 'The Idempotency-Key header is not valid' },

  // Tenants, clients, tokens
  'tenant.not_found': { status: 404, title: 'Tenant not found' },
  'tenant.id_taken': { status: 409, title: 'A tenant with this id already exists' },
  'tenant.default_protected': { status: 422, title: 'The default tenant cannot be deleted' },
  'client.not_found': { status: 404, title: 'API client not found' },
  'client.id_taken': { status: 409, title: 'An API client with this id already exists' },
  'client.invalid_scopes': { status: 422, title: 'Unknown or disallowed scopes' },
  'api_token.not_found': { status: 404, title: 'API token not found' },
  'signing_key.not_found': { status: 404, title: 'Signing key not found' },

  // Users
  'user.not_found': { status: 404, title: 'User not found' },
  'user.username_taken': { status: 409, title: 'The userName is already taken in this tenant' },
  'user.external_id_taken': { status: 409, title: 'The external id is already linked to another user' },
  'user.manager_not_found': { status: 422, title: 'The manager does not exist in this tenant' },
  'user.manager_cycle': { status: 422, title: 'The manager change would create a reporting cycle' },
  'user.concurrent_update': { status: 409, title: 'The user was changed concurrently; retry the request' },

  // Events
  'event.not_found': { status: 404, title: 'Event not found' },

  // Server
  'internal.error': { status: 500, title: 'Internal server error' },
  'internal.unavailable': { status: 503, title: 'The service is not ready' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;
