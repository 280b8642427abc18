import type { ColumnType, Generated } from 'kysely';

/**
 * Row types as the database stores them. Both dialects share these: timestamps are ISO-8601
 * strings (TEXT on SQLite, timestamptz read back as ISO on PostgreSQL), JSON columns are TEXT
 * on SQLite and jsonb on PostgreSQL (so reads may be a string or an already-parsed value:
 * repositories normalise with `parseJson`).
 */
type Json = ColumnType<unknown, string, string>;
type Timestamp = string;

export interface TenantTable {
  id: string;
  name: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ApiClientTable {
  id: string;
  tenant_id: string;
  client_id: string;
  name: string;
  secret_hash: string;
  scopes: string;
  /** SCIM settings (migration 0009): null where the creator sent none, so the defaults apply. */
  scim_origin: string | null;
  scim_owns: string | null;
  scim_on_delete: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ApiTokenTable {
  id: string;
  tenant_id: string;
  name: string;
  token_hash: string;
  token_prefix: string;
  scopes: string;
  /** SCIM settings (migration 0009): null where the creator sent none, so the defaults apply. */
  scim_origin: string | null;
  scim_owns: string | null;
  scim_on_delete: string | null;
  created_by: string;
  expires_at: Timestamp | null;
  last_used_at: Timestamp | null;
  created_at: Timestamp;
}

export interface RefreshTokenTable {
  id: string;
  tenant_id: string;
  client_ref: string;
  family_id: string;
  token_hash: string;
  scopes: string;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  revoked_at: Timestamp | null;
  created_at: Timestamp;
}

export interface RevokedAccessTokenTable {
  jti: string;
  tenant_id: string;
  expires_at: Timestamp;
}

export interface SigningKeyTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk: string;
  created_at: Timestamp;
  retired_at: Timestamp | null;
}

export interface UserTable {
  id: string;
  tenant_id: string;
  user_name: string;
  user_name_lower: string;
  email: string | null;
  email_lower: string | null;
  given_name: string | null;
  family_name: string | null;
  display_name: string;
  title: string | null;
  department: string | null;
  employee_id: string | null;
  employment_type: string | null;
  cost_center: string | null;
  phone: string | null;
  country: string | null;
  locale: string | null;
  manager_id: string | null;
  external_ids: Json;
  attributes: Json;
  tags: Json;
  status: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_login_at: Timestamp | null;
  version: number;
  position_id: string | null;
  area_id: string | null;
  prevent_deprovision: ColumnType<boolean | number, boolean | number, boolean | number>;
  identifications: Json;
  nick_name: string | null;
  profile_url: string | null;
  preferred_language: string | null;
  timezone: string | null;
  organization: string | null;
  division: string | null;
  profile: Json;
  provisioned_by: string | null;
  /** argon2id PHC string; never part of a User (read only by the password checks). */
  password_hash: string | null;
}

export interface UserExternalIdTable {
  tenant_id: string;
  origin: string;
  key: string;
  user_id: string;
}

export interface EventTable {
  id: string;
  tenant_id: string;
  /** Per tenant, strictly increasing in commit order (see EventRepository). */
  position: number;
  type: string;
  actor_type: string;
  actor_id: string | null;
  resource_type: string;
  resource_id: string;
  occurred_at: Timestamp;
  changes: Json;
  /** EventContext, or null when the call had none. */
  context: ColumnType<unknown, string | null, string | null>;
}

/** Per tenant, the last event position handed out (the row writers lock just before COMMIT). */
export interface EventPositionTable {
  tenant_id: string;
  last_position: number;
}

export interface IdempotencyKeyTable {
  tenant_id: string;
  actor_id: string;
  key: string;
  fingerprint: string;
  state: string;
  status_code: number | null;
  response_headers: Json | null;
  response_body: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
}

/** Columns every directory table has (see migration 0002). */
interface DirectoryFrame {
  id: string;
  tenant_id: string;
  name: string;
  name_lower: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  version: number;
}

type Bool = ColumnType<boolean | number, boolean | number, boolean | number>;

export interface RoleTable extends DirectoryFrame {
  description: string | null;
  weight: number;
  permissions: Json;
}
export interface GroupTable extends DirectoryFrame {
  description: string | null;
  external_ids: Json;
  provisioned_by: string | null;
}
export interface GroupExternalIdTable {
  tenant_id: string;
  origin: string;
  key: string;
  group_id: string;
}
export interface OrganizationTable extends DirectoryFrame {
  code: string;
  code_lower: string;
  parent_id: string | null;
}
export interface EnvironmentTable extends DirectoryFrame {
  description: string | null;
}
export interface AreaTable extends DirectoryFrame {
  parent_id: string | null;
}
export interface PositionTable extends DirectoryFrame {
  area_id: string | null;
}
export interface IdentityProviderTable extends DirectoryFrame {
  alias: string;
  alias_lower: string;
  type: string;
  enabled: Bool;
  config: Json;
}
export interface IdentificationTypeTable extends DirectoryFrame {
  code: string;
  code_lower: string;
}
export interface AttributeDefinitionTable extends DirectoryFrame {
  type: string;
  required: Bool;
  enum_values: Json;
  multi_valued: Bool;
  indexed: Bool;
}
interface MembershipFrame {
  tenant_id: string;
  user_id: string;
  created_at: Timestamp;
}
export interface UserRoleTable extends MembershipFrame {
  role_id: string;
}
export interface UserGroupTable extends MembershipFrame {
  group_id: string;
}
export interface UserOrganizationTable extends MembershipFrame {
  organization_id: string;
}
export interface UserEnvironmentTable extends MembershipFrame {
  environment_id: string;
  permissions: Json;
}
export interface UserIdentityTable {
  id: string;
  tenant_id: string;
  user_id: string;
  provider_id: string;
  subject: string;
  user_name: string | null;
  created_at: Timestamp;
}

export interface JobTable {
  id: string;
  tenant_id: string | null;
  type: string;
  payload: Json;
  status: string;
  unique_key: string | null;
  run_at: Timestamp;
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
  lease_expires_at: Timestamp | null;
  last_error: string | null;
  progress: Json | null;
  result: Json | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}

/** A directory sync run (migration 0011). */
export interface SyncRunTable {
  id: string;
  tenant_id: string;
  origin: string;
  status: string;
  options: unknown;
  received: number;
  counts: unknown;
  applied: unknown;
  held_reasons: unknown;
  job_id: string | null;
  actor_type: string;
  actor_id: string | null;
  version: number;
  created_at: string;
  updated_at: string;
  planned_at: string | null;
  applied_at: string | null;
}

/** A row of a sync run's snapshot, as received. */
export interface SyncRunRowTable {
  run_id: string;
  seq: number;
  key_lower: string;
  row: unknown;
}

/** One planned change of a sync run, and the outcome of its apply. */
export interface SyncRunItemTable {
  run_id: string;
  seq: number;
  key: string;
  row_seq: number | null;
  user_id: string | null;
  action: string;
  base_version: number | null;
  changes: unknown;
  warnings: unknown;
  error: unknown;
  outcome: string | null;
  outcome_error: unknown;
}

/** A row of an asynchronous bulk upsert and its result (migration 0012). */
export interface BulkJobRowTable {
  batch_id: string;
  tenant_id: string;
  seq: number;
  key: string;
  row: unknown;
  status: string | null;
  user_id: string | null;
  error: unknown;
}

export interface DB {
  tenants: TenantTable;
  api_clients: ApiClientTable;
  api_tokens: ApiTokenTable;
  refresh_tokens: RefreshTokenTable;
  revoked_access_tokens: RevokedAccessTokenTable;
  signing_keys: SigningKeyTable;
  users: UserTable;
  user_external_ids: UserExternalIdTable;
  events: EventTable;
  event_positions: EventPositionTable;
  idempotency_keys: IdempotencyKeyTable;
  roles: RoleTable;
  groups: GroupTable;
  group_external_ids: GroupExternalIdTable;
  organizations: OrganizationTable;
  environments: EnvironmentTable;
  areas: AreaTable;
  positions: PositionTable;
  identity_providers: IdentityProviderTable;
  identification_types: IdentificationTypeTable;
  attribute_definitions: AttributeDefinitionTable;
  user_roles: UserRoleTable;
  user_groups: UserGroupTable;
  user_organizations: UserOrganizationTable;
  user_environments: UserEnvironmentTable;
  user_identities: UserIdentityTable;
  jobs: JobTable;
  sync_runs: SyncRunTable;
  sync_run_rows: SyncRunRowTable;
  sync_run_items: SyncRunItemTable;
  bulk_job_rows: BulkJobRowTable;
}

/** Kept for symmetry with generated columns should a table gain one. */
export type { Generated };
