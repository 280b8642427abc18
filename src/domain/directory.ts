import type { ErrorCode } from '../errors/error-codes.js';
import type { EventType } from './event-catalogue.js';

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
  /** A second column holding the lowercased value: what uniqueness and filters use. */
  lowerColumn?: string;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  enumValues?: readonly string[];
  /** For 'reference': the kind the id points to (a parentId points to its own kind). */
  references?: DirectoryKind;
  description?: string;
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
  /** Other kinds whose column points here: deleting a referenced record is refused (409). */
  referencedBy?: { kind: DirectoryKind; column: string }[];
  /** A membership table: deleting the record removes the memberships, one event per user. */
  membership?: { table: string; column: string; eventField: string; eventType: EventType };
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
export const IDENTITY_PROVIDER_TYPES = ['oidc', 'saml', 'azure-ad', 'google', 'ldap', 'other'] as const;
export const ATTRIBUTE_TYPES = ['string', 'number', 'boolean', 'date', 'enum'] as const;

const name = (description: string): DirectoryField => ({ column: 'name', type: 'string', required: true, lowerColumn: 'name_lower', maxLength: 200, description });
const description: DirectoryField = { column: 'description', type: 'string', maxLength: 2000 };

export const DIRECTORY: Record<DirectoryKind, DirectoryDefinition> = {
  role: {
    kind: 'role', path: 'roles', table: 'roles', title: 'Roles', notFound: 'role.not_found',
    fields: {
      name: name('Unique per tenant (case-insensitive).'),
      description,
      weight: { column: 'weight', type: 'integer', default: 0, minimum: -1_000_000, maximum: 1_000_000, description: 'A higher weight means more privilege.' },
      permissions: { column: 'permissions', type: 'stringArray', default: [], maxLength: 200, description: 'Permission strings this role grants.' },
    },
    membership: { table: 'user_roles', column: 'role_id', eventField: 'roles', eventType: 'user.memberships_changed' },
  },
  group: {
    kind: 'group', path: 'groups', table: 'groups', title: 'Groups', notFound: 'group.not_found',
    fields: {
      name: name('Unique per tenant (case-insensitive).'),
      description,
      externalIds: { column: 'external_ids', type: 'externalIds', default: [], description: 'Ids of this group in source systems ({origin, key}, unique per tenant).' },
    },
    membership: { table: 'user_groups', column: 'group_id', eventField: 'groups', eventType: 'user.memberships_changed' },
  },
  organization: {
    kind: 'organization', path: 'organizations', table: 'organizations', title: 'Organizations', notFound: 'organization.not_found', tree: true,
    fields: {
      name: { ...name('Display name.'), lowerColumn: 'name_lower' },
      code: { column: 'code', type: 'string', required: true, lowerColumn: 'code_lower', maxLength: 100, description: 'Unique per tenant (case-insensitive), e.g. a company code.' },
      parentId: { column: 'parent_id', type: 'reference', references: 'organization', description: 'The parent organization (a tree; cycles are refused).' },
    },
    membership: { table: 'user_organizations', column: 'organization_id', eventField: 'organizations', eventType: 'user.memberships_changed' },
  },
  environment: {
    kind: 'environment', path: 'environments', table: 'environments', title: 'Environments', notFound: 'environment.not_found',
    fields: { name: name('Unique per tenant (case-insensitive).'), description },
    membership: { table: 'user_environments', column: 'environment_id', eventField: 'environments', eventType: 'user.memberships_changed' },
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
    fields: {
      name: name('Display name.'),
      alias: { column: 'alias', type: 'string', required: true, lowerColumn: 'alias_lower', maxLength: 64, description: 'Unique prefix (case-insensitive), e.g. "entra".' },
      type: { column: 'type', type: 'enum', required: true, enumValues: IDENTITY_PROVIDER_TYPES },
      enabled: { column: 'enabled', type: 'boolean', default: true },
      config: {
        column: 'config', type: 'configObject', default: {},
        description: 'Issuer, audience, jwksUri, clientId… Keys containing "secret", "password" or "privateKey" are write-only: stored, never returned (listed in configSecrets).',
      },
    },
  },
  identification_type: {
    kind: 'identification_type', path: 'identification-types', table: 'identification_types', title: 'Identification types', notFound: 'identification_type.not_found',
    fields: {
      name: name('e.g. Passport.'),
      code: { column: 'code', type: 'string', required: true, lowerColumn: 'code_lower', maxLength: 64, description: 'Unique per tenant (case-insensitive), e.g. "passport".' },
    },
  },
  attribute_definition: {
    kind: 'attribute_definition', path: 'attribute-definitions', table: 'attribute_definitions', title: 'Attribute definitions', notFound: 'attribute_definition.not_found',
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

/** Config keys that hold secrets: written, stored, never read back. */
export const isSecretConfigKey = (key: string): boolean => /secret|password|privatekey|private_key/i.test(key);
