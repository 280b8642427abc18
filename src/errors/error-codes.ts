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
  'request.method_not_allowed': { status: 405, title: 'The path does not take this method' },
  'request.reference_missing': { status: 409, title: 'A resource this request refers to no longer exists' },
  'request.conflict': { status: 409, title: 'The request conflicted with concurrent requests; retry it' },
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
  'client.tenant_not_found': { status: 422, title: 'The tenant named in the body does not exist' },
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
  'user.transition_not_allowed': { status: 409, title: 'The user cannot move to that status from its current one' },

  'user.reference_not_found': { status: 422, title: 'A position, area or identification type the user refers to does not exist' },

  // Directory
  'role.not_found': { status: 404, title: 'Role not found' },
  'role.name_taken': { status: 409, title: 'A role with this name already exists' },
  'group.not_found': { status: 404, title: 'Group not found' },
  'group.name_taken': { status: 409, title: 'A group with this name already exists' },
  'group.external_id_taken': { status: 409, title: 'The external id is already linked to another group' },
  'organization.not_found': { status: 404, title: 'Organization not found' },
  'organization.code_taken': { status: 409, title: 'An organization with this code already exists' },
  'environment.not_found': { status: 404, title: 'Environment not found' },
  'environment.name_taken': { status: 409, title: 'An environment with this name already exists' },
  'position.not_found': { status: 404, title: 'Position not found' },
  'area.not_found': { status: 404, title: 'Area not found' },
  'identity_provider.not_found': { status: 404, title: 'Identity provider not found' },
  'identity_provider.alias_taken': { status: 409, title: 'An identity provider with this alias already exists' },
  'identification_type.not_found': { status: 404, title: 'Identification type not found' },
  'identification_type.code_taken': { status: 409, title: 'An identification type with this code already exists' },
  'attribute_definition.not_found': { status: 404, title: 'Attribute definition not found' },
  'attribute_definition.name_taken': { status: 409, title: 'An attribute with this name is already defined' },
  'attribute_definition.invalid': { status: 422, title: 'The attribute definition is not consistent' },
  'attribute_definition.index_failed': { status: 503, title: 'The index of the attribute could not be built; nothing was changed' },
  'directory.concurrent_update': { status: 409, title: 'The record was changed concurrently; retry the request' },
  'directory.in_use': { status: 409, title: 'The resource is still referenced' },
  'directory.reference_not_found': { status: 422, title: 'A referenced resource does not exist' },
  'directory.parent_cycle': { status: 422, title: 'The change would make the tree a cycle' },
  'user.attribute_invalid': { status: 422, title: 'A custom attribute does not match its definition' },
  'membership.not_found': { status: 404, title: 'The user is not a member' },
  'membership.target_not_found': { status: 422, title: 'A role, group, organization or environment in the list does not exist' },
  'identity.not_found': { status: 404, title: 'Identity link not found' },
  'identity.subject_taken': { status: 409, title: 'This provider subject is already linked to a user' },

  // Events
  'event.not_found': { status: 404, title: 'Event not found' },

  // Jobs
  'job.not_found': { status: 404, title: 'Job not found' },

  // Server
  'internal.error': { status: 500, title: 'Internal server error' },
  'internal.unavailable': { status: 503, title: 'The service is not ready' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;
