import type { FieldError } from '../errors/app-error.js';
import type { ErrorCode } from '../errors/error-codes.js';
import { describeConfigSchema, type ConfigSchema } from './config-schema.js';
import { IDENTITY_PROVIDER_CONFIGS, IDENTITY_PROVIDER_TYPES } from './identity-provider-config.js';
import type { TextClass } from './identifier-key.js';

export { IDENTITY_PROVIDER_TYPES } from './identity-provider-config.js';

/**
 * The directory resources (roles, groups, organizations, …) share one shape: a tenant-scoped
 * record with a name, a few fields of its own, a version and events. Each kind is described
 * here once; one repository, one service and one route registrar serve them all.
 */
export type DirectoryKind =
  | 'role'
  | 'group'
  | 'organization'
  | 'environment'
  | 'position'
  | 'area'
  | 'identity_provider'
  | 'identification_type'
  | 'attribute_definition';

export type DirectoryFieldType = 'string' | 'integer' | 'boolean' | 'stringArray' | 'enum' | 'reference' | 'configObject' | 'externalIds';

export interface DirectoryField {
  column: string;
  type: DirectoryFieldType;
  /** Must be sent on create and replace. */
  required?: boolean;
  /** Value when omitted on create/replace (null when absent and not required). */
  default?: unknown;
  /**
   * A second column holding the comparison form of the value (`identifierKey`: RFC 8265 width
   * mapping, lowercase, NFC): what uniqueness, filters and sorting use.
   */
  lowerColumn?: string;
  /**
   * For 'string': which characters a written value may hold (domain/identifier-key.ts):
   * `identifier` (codes, aliases: RFC 8264 IdentifierClass) or `name` (unique display names:
   * anything but what is never text). The {origin, key} of 'externalIds' are identifiers.
   */
  characters?: TextClass;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  enumValues?: readonly string[];
  /** For 'reference': the kind the id points to (a parentId points to its own kind). */
  references?: DirectoryKind;
  /**
   * For 'configObject': the read-only field listing the write-only secrets that are set (stored,
   * never returned or put in events; a replace that omits them keeps them; null removes one).
   * Which fields are secret is declared by `configSchema`, never guessed from key names.
   */
  secretsField?: string;
  /**
   * For 'configObject': the declared schema of the object, chosen by the value of another field
   * of the record (`by`), e.g. an identity provider's type. Undeclared fields are refused.
   */
  configSchema?: { by: string; schemas: Readonly<Record<string, ConfigSchema>> };
  /**
   * Set by Roster, never by a client (e.g. `provisionedBy`): shown in responses and filters, not
   * accepted in create or patch bodies, ignored when a replace echoes it; kept on every update.
   */
  serverOwned?: boolean;
  /** For 'externalIds': the lookup table that keeps each {origin, key} unique per tenant, and its owner column. */
  lookupTable?: { table: 'group_external_ids'; ownerColumn: 'group_id' };
  description?: string;
}

/** The four membership kinds, named as URL segments and event fields: /v1/users/{id}/groups. */
export type MembershipKind = 'roles' | 'groups' | 'organizations' | 'environments';

/**
 * A kind users can be members of: its membership table (user_roles, …) keyed by (user_id,
 * target id). Described here once; src/domain/membership.ts derives MEMBERSHIPS from it.
 */
export interface DirectoryMembership {
  kind: MembershipKind;
  table: 'user_roles' | 'user_groups' | 'user_organizations' | 'user_environments';
  column: 'role_id' | 'group_id' | 'organization_id' | 'environment_id';
  /** Path parameter naming one target on the user side: /v1/users/{id}/groups/{groupId}. */
  param: 'roleId' | 'groupId' | 'organizationId' | 'environmentId';
  /** The target column shown next to id and name in a user's list (and filterable in any()). */
  extra?: 'weight' | 'code';
  /** Environments: the membership itself carries permissions. */
  permissions: boolean;
}

export interface DirectoryDefinition {
  kind: DirectoryKind;
  /** URL segment and table name. */
  path: string;
  table: string;
  title: string;
  fields: Record<string, DirectoryField>;
  notFound: ErrorCode;
  /** The field named `parentId` forms a tree: no cycles; children block deletion. */
  tree?: boolean;
  /** A user column that points here: deleting a referenced record is refused (409). */
  userColumn?: 'position_id' | 'area_id';
  /**
   * The record's consistency rule beyond field types (e.g. enumValues only for enum attributes):
   * returns the problems, each naming the field.
   */
  validate?: (record: DirectoryRecord) => FieldError[];
  /** The error code of a record that fails `validate` (422). */
  invalid?: ErrorCode;
  /**
   * Records of this kind define user attributes: writes invalidate the per-unit cache of
   * definitions, and an `indexed` definition keeps an expression index on users in step.
   */
  definesUserAttributes?: boolean;
  /** Other kinds whose column points here: deleting a referenced record is refused (409). */
  referencedBy?: { kind: DirectoryKind; column: string }[];
  /** Users can be members: deleting the record removes the memberships, one event per user. */
  membership?: DirectoryMembership;
  /**
   * Users link to it (identity providers): deleting the record removes the links, with the same
   * event per link as unlinking one through the user.
   */
  userLinks?: { table: 'user_identities'; column: 'provider_id' };
}

export interface DirectoryRecord {
  id: string;
  tenantId: string;
  createdAt: string;
  updatedAt: string;
  version: number;
  [field: string]: unknown;
}

export const ENVIRONMENT_PERMISSIONS = ['view', 'model', 'build', 'run', 'admin'] as const;
export const ATTRIBUTE_TYPES = ['string', 'number', 'boolean', 'date', 'enum'] as const;

const name = (description: string): DirectoryField => ({ column: 'name', type: 'string', required: true, lowerColumn: 'name_lower', characters: 'name', maxLength: 200, description });
const description: DirectoryField = { column: 'description', type: 'string', maxLength: 2000 };

export const DIRECTORY: Record<DirectoryKind, DirectoryDefinition> = {
  role: {
    kind: 'role', path: 'roles', table: 'roles', title: 'Roles', notFound: 'role.not_found',
    fields: {
      name: name('Unique per tenant (compared ignoring case, width and Unicode normalization form).'),
      description,
      weight: { column: 'weight', type: 'integer', default: 0, minimum: -1_000_000, maximum: 1_000_000, description: 'A higher weight means more privilege.' },
      permissions: { column: 'permissions', type: 'stringArray', default: [], maxLength: 200, description: 'Permission strings this role grants.' },
    },
    membership: { kind: 'roles', table: 'user_roles', column: 'role_id', param: 'roleId', extra: 'weight', permissions: false },
  },
  group: {
    kind: 'group', path: 'groups', table: 'groups', title: 'Groups', notFound: 'group.not_found',
    fields: {
      name: name('Unique per tenant (compared ignoring case, width and Unicode normalization form).'),
      description,
      externalIds: {
        column: 'external_ids', type: 'externalIds', default: [], lookupTable: { table: 'group_external_ids', ownerColumn: 'group_id' },
        description: 'Ids of this group in source systems ({origin, key}, unique per tenant).',
      },
      provisionedBy: {
        column: 'provisioned_by', type: 'string', serverOwned: true, maxLength: 64,
        description: 'The origin of the SCIM client that created the group (null when created otherwise); a SCIM credential with owns "own" sees only its own groups.',
      },
    },
    membership: { kind: 'groups', table: 'user_groups', column: 'group_id', param: 'groupId', permissions: false },
  },
  organization: {
    kind: 'organization', path: 'organizations', table: 'organizations', title: 'Organizations', notFound: 'organization.not_found', tree: true,
    fields: {
      name: { ...name('Display name.'), lowerColumn: 'name_lower' },
      code: { column: 'code', type: 'string', required: true, lowerColumn: 'code_lower', characters: 'identifier', maxLength: 100, description: 'Unique per tenant (compared ignoring case, width and Unicode normalization form), e.g. a company code.' },
      parentId: { column: 'parent_id', type: 'reference', references: 'organization', description: 'The parent organization (a tree; cycles are refused).' },
    },
    membership: { kind: 'organizations', table: 'user_organizations', column: 'organization_id', param: 'organizationId', extra: 'code', permissions: false },
  },
  environment: {
    kind: 'environment', path: 'environments', table: 'environments', title: 'Environments', notFound: 'environment.not_found',
    fields: { name: name('Unique per tenant (compared ignoring case, width and Unicode normalization form).'), description },
    membership: { kind: 'environments', table: 'user_environments', column: 'environment_id', param: 'environmentId', permissions: true },
  },
  area: {
    kind: 'area', path: 'areas', table: 'areas', title: 'Areas', notFound: 'area.not_found', tree: true, userColumn: 'area_id',
    referencedBy: [{ kind: 'position', column: 'area_id' }],
    fields: {
      name: name('Display name of the org unit.'),
      parentId: { column: 'parent_id', type: 'reference', references: 'area', description: 'The parent area (a tree; cycles are refused).' },
    },
  },
  position: {
    kind: 'position', path: 'positions', table: 'positions', title: 'Positions', notFound: 'position.not_found', userColumn: 'position_id',
    fields: {
      name: name('Job position name.'),
      areaId: { column: 'area_id', type: 'reference', references: 'area', description: 'The area (org unit) this position belongs to.' },
    },
  },
  identity_provider: {
    kind: 'identity_provider', path: 'identity-providers', table: 'identity_providers', title: 'Identity providers', notFound: 'identity_provider.not_found',
    userLinks: { table: 'user_identities', column: 'provider_id' },
    fields: {
      name: name('Display name.'),
      alias: { column: 'alias', type: 'string', required: true, lowerColumn: 'alias_lower', characters: 'identifier', maxLength: 64, description: 'Unique prefix (compared ignoring case, width and Unicode normalization form), e.g. "entra".' },
      type: { column: 'type', type: 'enum', required: true, enumValues: IDENTITY_PROVIDER_TYPES },
      enabled: { column: 'enabled', type: 'boolean', default: true },
      config: {
        column: 'config', type: 'configObject', default: {}, secretsField: 'configSecrets', configSchema: { by: 'type', schemas: IDENTITY_PROVIDER_CONFIGS },
        description:
          'Settings declared per provider type; other fields are refused. Write-only fields are stored, never returned, and listed by name in configSecrets ' +
          '(a PUT that omits one keeps it; null removes it). ' +
          IDENTITY_PROVIDER_TYPES.map((type) => `${type}: ${describeConfigSchema(IDENTITY_PROVIDER_CONFIGS[type])}.`).join(' '),
      },
    },
  },
  identification_type: {
    kind: 'identification_type', path: 'identification-types', table: 'identification_types', title: 'Identification types', notFound: 'identification_type.not_found',
    fields: {
      name: name('e.g. Passport.'),
      code: { column: 'code', type: 'string', required: true, lowerColumn: 'code_lower', characters: 'identifier', maxLength: 64, description: 'Unique per tenant (compared ignoring case, width and Unicode normalization form), e.g. "passport".' },
    },
  },
  attribute_definition: {
    kind: 'attribute_definition', path: 'attribute-definitions', table: 'attribute_definitions', title: 'Attribute definitions', notFound: 'attribute_definition.not_found',
    definesUserAttributes: true,
    invalid: 'attribute_definition.invalid',
    validate: (record) => {
      const enumValues = (record.enumValues as string[] | undefined) ?? [];
      if (record.type === 'enum' && enumValues.length === 0) return [{ field: '/body/enumValues', message: 'must not be empty for type enum' }];
      if (record.type !== 'enum' && enumValues.length > 0) return [{ field: '/body/enumValues', message: `must be empty unless type is enum (type is ${String(record.type)})` }];
      return [];
    },
    fields: {
      name: { column: 'name', type: 'string', required: true, lowerColumn: 'name_lower', maxLength: 64, pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$', description: 'The key in user.attributes (case-sensitive; letters, digits, underscore).' },
      type: { column: 'type', type: 'enum', required: true, enumValues: ATTRIBUTE_TYPES },
      required: { column: 'required', type: 'boolean', default: false },
      enumValues: { column: 'enum_values', type: 'stringArray', default: [], maxLength: 200 },
      multiValued: { column: 'multi_valued', type: 'boolean', default: false },
      indexed: { column: 'indexed', type: 'boolean', default: false, description: 'Keeps attributes/<name> filters index-fast.' },
    },
  },
};

export const directoryByPath = (path: string): DirectoryDefinition | undefined => Object.values(DIRECTORY).find((d) => d.path === path);

/** The read-only field naming the write-only secrets of a configObject field, if it has one. */
export const secretsFields = (def: DirectoryDefinition): string[] =>
  Object.values(def.fields).flatMap((f) => (f.type === 'configObject' && f.secretsField ? [f.secretsField] : []));

/** The declared schema of a record's config field, chosen by the field it depends on (undefined: none declared for that value). */
export const configSchemaOf = (field: DirectoryField, record: Record<string, unknown>): ConfigSchema | undefined =>
  field.configSchema ? field.configSchema.schemas[String(record[field.configSchema.by])] : undefined;
