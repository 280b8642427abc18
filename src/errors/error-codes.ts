/**
 * The `scimType` keywords of RFC 7644 §3.12, plus those RFC 9865 adds for cursor paging. A SCIM
 * error response carries the keyword of its code's catalogue entry; routes never choose one.
 */
export type ScimType =
  | 'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath'
  | 'noTarget' | 'invalidValue' | 'invalidVers' | 'sensitive'
  | 'invalidCursor' | 'expiredCursor' | 'invalidCount';

/** One catalogue entry: HTTP status, title, and for SCIM responses the RFC 7644 `scimType`. */
export interface ErrorEntry {
  status: number;
  title: string;
  scimType?: ScimType;
}

/**
 * The one catalogue of error codes. A code is part of the public API: clients branch on it, so
 * codes are never renamed or reused. Add new ones here; the HTTP status and title live with them.
 */
export const errorCatalogue = {
  // Request shape
  'request.validation_failed': { status: 400, title: 'The request is not valid', scimType: 'invalidValue' },
  'request.malformed_json': { status: 400, title: 'The request body is not valid JSON', scimType: 'invalidSyntax' },
  'request.body_too_large': { status: 413, title: 'The request body is too large' },
  'request.unsupported_media_type': { status: 415, title: 'Unsupported content type' },
  'request.invalid_filter': { status: 400, title: 'The $filter expression is not valid', scimType: 'invalidFilter' },
  'request.invalid_orderby': { status: 400, title: 'The $orderby expression is not valid', scimType: 'invalidValue' },
  'request.invalid_select': { status: 400, title: 'The $select expression is not valid', scimType: 'invalidValue' },
  'request.invalid_expand': { status: 400, title: 'The $expand expression is not valid' },
  'request.invalid_cursor': { status: 400, title: 'The paging cursor is not valid', scimType: 'invalidCursor' },
  'request.invalid_paging': { status: 400, title: 'The paging parameters are not valid', scimType: 'invalidValue' },
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
  'tenant.id_taken': { status: 409, title: 'A tenant with this id already exists', scimType: 'uniqueness' },
  'tenant.default_protected': { status: 422, title: 'The default tenant cannot be deleted' },
  'client.not_found': { status: 404, title: 'API client not found' },
  'client.tenant_not_found': { status: 422, title: 'The tenant named in the body does not exist' },
  'client.id_taken': { status: 409, title: 'An API client with this id already exists', scimType: 'uniqueness' },
  'client.invalid_scopes': { status: 422, title: 'Unknown or disallowed scopes' },
  'api_token.not_found': { status: 404, title: 'API token not found' },
  'signing_key.not_found': { status: 404, title: 'Signing key not found' },

  // Users
  'user.not_found': { status: 404, title: 'User not found' },
  'user.username_taken': { status: 409, title: 'The userName is already taken in this tenant', scimType: 'uniqueness' },
  'user.external_id_taken': { status: 409, title: 'The external id is already linked to another user', scimType: 'uniqueness' },
  'user.manager_not_found': { status: 422, title: 'The manager does not exist in this tenant' },
  'user.manager_cycle': { status: 422, title: 'The manager change would create a reporting cycle' },
  'user.concurrent_update': { status: 409, title: 'The user was changed concurrently; retry the request' },
  'user.transition_not_allowed': { status: 409, title: 'The user cannot move to that status from its current one' },

  'user.reference_not_found': { status: 422, title: 'A position, area or identification type the user refers to does not exist' },

  // Directory
  'role.not_found': { status: 404, title: 'Role not found' },
  'role.name_taken': { status: 409, title: 'A role with this name already exists', scimType: 'uniqueness' },
  'group.not_found': { status: 404, title: 'Group not found' },
  'group.name_taken': { status: 409, title: 'A group with this name already exists', scimType: 'uniqueness' },
  'group.external_id_taken': { status: 409, title: 'The external id is already linked to another group', scimType: 'uniqueness' },
  'organization.not_found': { status: 404, title: 'Organization not found' },
  'organization.code_taken': { status: 409, title: 'An organization with this code already exists', scimType: 'uniqueness' },
  'environment.not_found': { status: 404, title: 'Environment not found' },
  'environment.name_taken': { status: 409, title: 'An environment with this name already exists', scimType: 'uniqueness' },
  'position.not_found': { status: 404, title: 'Position not found' },
  'area.not_found': { status: 404, title: 'Area not found' },
  'identity_provider.not_found': { status: 404, title: 'Identity provider not found' },
  'identity_provider.alias_taken': { status: 409, title: 'An identity provider with this alias already exists', scimType: 'uniqueness' },
  'identification_type.not_found': { status: 404, title: 'Identification type not found' },
  'identification_type.code_taken': { status: 409, title: 'An identification type with this code already exists', scimType: 'uniqueness' },
  'attribute_definition.not_found': { status: 404, title: 'Attribute definition not found' },
  'attribute_definition.name_taken': { status: 409, title: 'An attribute with this name is already defined', scimType: 'uniqueness' },
  'attribute_definition.invalid': { status: 422, title: 'The attribute definition is not consistent' },
  'attribute_definition.index_failed': { status: 503, title: 'The index of the attribute could not be built; nothing was changed' },
  'directory.concurrent_update': { status: 409, title: 'The record was changed concurrently; retry the request' },
  'directory.in_use': { status: 409, title: 'The resource is still referenced' },
  'directory.reference_not_found': { status: 422, title: 'A referenced resource does not exist' },
  'directory.parent_cycle': { status: 422, title: 'The change would make the tree a cycle' },
  'user.attribute_invalid': { status: 422, title: 'A custom attribute does not match its definition' },
  'membership.not_found': { status: 404, title: 'The user is not a member' },
  'group.member_not_found': { status: 422, title: 'A user named as a group member does not exist' },
  'membership.target_not_found': { status: 422, title: 'A role, group, organization or environment in the list does not exist' },
  'identity.not_found': { status: 404, title: 'Identity link not found' },
  'identity.subject_taken': { status: 409, title: 'This provider subject is already linked to a user', scimType: 'uniqueness' },

  // Bulk upsert, bulk disable, sync runs: errors of one row
  'bulk.duplicate_key': { status: 409, title: 'An earlier row of the same request has this key', scimType: 'uniqueness' },
  'bulk.user_exists': { status: 409, title: 'A user with this key exists already (mode create)', scimType: 'uniqueness' },
  'bulk.reference_not_found': { status: 422, title: 'A record the row refers to does not exist' },
  'bulk.reference_ambiguous': { status: 422, title: 'A name the row refers to matches several records; refer by id' },
  'bulk.conflicting_fields': { status: 400, title: 'The row sets one thing twice (a reference and its id)' },
  'bulk.deprovision_prevented': { status: 409, title: 'The user has preventDeprovision set' },
  'sync_run.not_found': { status: 404, title: 'Sync run not found' },
  'sync_run.wrong_status': { status: 409, title: 'The sync run is not in a status that allows this' },
  'sync_run.held': { status: 409, title: 'The plan is held by a safeguard; apply it with force=true after reviewing it' },
  'sync_run.drift': { status: 409, title: 'The user changed after the plan was made' },

  // Events
  'event.not_found': { status: 404, title: 'Event not found' },

  // Jobs
  'job.not_found': { status: 404, title: 'Job not found' },

  // SCIM (RFC 7644 §3.12, RFC 9865): the errors only the SCIM adapter raises
  'scim.invalid_filter': { status: 400, title: 'The SCIM filter is not valid', scimType: 'invalidFilter' },
  'scim.filter_not_allowed': { status: 403, title: 'This SCIM endpoint does not take a filter' },
  'scim.invalid_path': { status: 400, title: 'The SCIM PATCH path is not valid', scimType: 'invalidPath' },
  'scim.no_target': { status: 400, title: 'The SCIM PATCH path matched no value', scimType: 'noTarget' },
  'scim.mutability': { status: 400, title: 'The attribute cannot be changed', scimType: 'mutability' },
  'scim.invalid_value': { status: 400, title: 'A SCIM value is missing or not valid', scimType: 'invalidValue' },
  'scim.invalid_syntax': { status: 400, title: 'The SCIM request is not well formed', scimType: 'invalidSyntax' },
  'scim.too_many': { status: 400, title: 'The SCIM request would return too many resources', scimType: 'tooMany' },
  'scim.invalid_version': { status: 400, title: 'The SCIM protocol version is not supported', scimType: 'invalidVers' },
  'scim.invalid_cursor': { status: 400, title: 'The SCIM paging cursor is not valid', scimType: 'invalidCursor' },
  'scim.not_implemented': { status: 501, title: 'The SCIM operation is not implemented' },

  // Server
  'internal.error': { status: 500, title: 'Internal server error' },
  'internal.unavailable': { status: 503, title: 'The service is not ready' },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof errorCatalogue;

/** The RFC 7644 `scimType` of a code, when its catalogue entry names one. */
export function scimTypeOf(code: ErrorCode): ScimType | undefined {
  return (errorCatalogue[code] as ErrorEntry).scimType;
}
